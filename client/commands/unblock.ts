import { controlVerb } from "../connection.ts";

export const command = controlVerb({
  name: "unblock",
  operand: "address",
  summary: "remove a source address from the block list",
  text: "Removes a host from the running core's block list. Exit code 1 if it was not blocked.",
  example: "xids unblock 198.18.0.9",
  async act(c, { value }) {
    const res = await c.unblock(value);
    console.log(res.removed ? `unblocked ${value}` : `${value} was not blocked`);
    return res.removed ? 0 : 1;
  },
});

import { controlVerb } from "../connection.ts";

export const command = controlVerb({
  name: "disallow",
  operand: "cidr",
  summary: "remove a CIDR from the allow list",
  text: "Removes a CIDR from the running core's allow list. Exit code 1 if it was not there.",
  example: "xids disallow 198.18.0.0/24",
  async act(c, { value }) {
    const res = await c.disallow(value);
    console.log(res.removed ? `disallowed ${value}` : `${value} was not in the allow list`);
    return res.removed ? 0 : 1;
  },
});

import { controlVerb } from "../connection.ts";

export const command = controlVerb({
  name: "allow",
  operand: "cidr",
  summary: "add a CIDR to the allow list (never blocked)",
  text: `Adds an IPv4/IPv6 CIDR (or a host address) to the running core's allow list: matching
sources are never dropped, and every block inside it is lifted (the answer says how many).`,
  example: "xids allow 198.18.0.0/24",
  async act(c, { value }) {
    const res = await c.allow(value);
    console.log(`allowed ${res.cidr}${res.unblocked ? ` (lifted ${res.unblocked} block${res.unblocked === 1 ? "" : "s"})` : ""}`);
    return 0;
  },
});

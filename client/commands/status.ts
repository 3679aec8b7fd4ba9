import { controlVerb } from "../connection.ts";
import { StatusResponse } from "../../proto/gen/xids/control/v1/control.ts";
import { kindName } from "../../core/config/plugin-kinds.ts";

export const command = controlVerb({
  name: "status",
  json: true,
  summary: "show the running core: state, XDP mode, model, plugins",
  text: `Shows whether the core runs or is degraded (a plugin is down; the kernel keeps protecting),
the interface and XDP mode in use, the model, and every plugin with its state and restarts.
  --json    print the status as JSON`,
  example: "xids status",
  async act(c, { json }) {
    const s = await c.status();
    if (json) return (console.log(JSON.stringify(StatusResponse.toJSON(s))), 0);
    console.log(`xids ${s.version}: ${s.state}, up ${(s.uptimeMs / 1000).toFixed(0)} s${s.configPath ? `, config ${s.configPath}` : ""}`);
    console.log(`data plane: ${s.interface ? `${s.interface}, XDP ${s.xdpMode}` : "no interface attached"}`);
    console.log(`model: ${s.model || "none"}${s.modelVersion ? `, version ${s.modelVersion}` : ""}`);
    const w = Math.max(2, ...s.plugins.map((p) => p.id.length));
    console.log(`\n${"ID".padEnd(w)}  KIND       STATE       RESTARTS  WHERE`);
    for (const p of s.plugins) {
      console.log(
        `${p.id.padEnd(w)}  ${kindName(p.kind).padEnd(9)}  ${p.state.padEnd(10)}  ${String(p.restarts).padEnd(8)}  ${p.external ? p.address : "in-process"}${p.lastError && p.state !== "running" ? `  (${p.lastError})` : ""}`,
      );
    }
    return 0;
  },
});

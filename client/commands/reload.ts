import { controlVerb } from "../connection.ts";
import { ReloadResponse } from "../../proto/gen/xids/control/v1/control.ts";

export const command = controlVerb({
  name: "reload",
  json: true,
  summary: "re-read the running core's config file and apply what can change live",
  text: `Asks the running core to re-read its config file (as SIGHUP does) and check it completely.
A config that fails its check is refused with the reason and changes nothing (exit 1). Otherwise
the allow list, changed responders, model artifacts are applied with XDP attached throughout,
plugins reopen their files (log rotation), and every other change is listed as needing a restart.
  --json    print the answer as JSON`,
  example: "xids reload",
  async act(c, { json }) {
    const r = await c.reload();
    if (json) console.log(JSON.stringify(ReloadResponse.toJSON(r)));
    else if (r.error) console.error(`xids reload: refused: ${r.error}`);
    else {
      console.log(r.applied.length ? `applied:\n${r.applied.map((a) => `  ${a}`).join("\n")}` : "applied: nothing changed live");
      if (r.needsRestart.length) console.log(`needs a restart to take effect:\n${r.needsRestart.map((n) => `  ${n}`).join("\n")}`);
    }
    return r.error ? 1 : 0;
  },
});

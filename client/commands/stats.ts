import { controlVerb } from "../connection.ts";
import { Stats } from "../../proto/gen/xids/control/v1/control.ts";

export const command = controlVerb({
  name: "stats",
  json: true,
  summary: "show counters: kernel, pipeline, plugins, watch",
  text: `Prints the kernel counters (summed across CPUs), the pipeline counters (flows received,
classified, dropped, detections, blocks, errors), per-plugin calls/errors/restarts and the
events lost by Watch clients and the ring buffer.
  --json    print the stats as JSON`,
  async act(c, { json }) {
    const s = await c.getStats();
    if (json) return (console.log(JSON.stringify(Stats.toJSON(s))), 0);
    const { dataplane, plugins, ...rest } = s;
    const snake = (k: string) => k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
    const rows: [string, number][] = [
      ...Object.entries(rest).map(([k, v]) => [snake(k), v as number] as [string, number]),
      ...Object.entries(plugins).map(([k, v]) => [`plugin ${k}`, v] as [string, number]),
      ...Object.entries(dataplane).filter(([, v]) => v !== 0).map(([k, v]) => [`kernel ${k}`, v] as [string, number]),
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    for (const [k, v] of rows) console.log(`${k.padEnd(w)}  ${v}`);
    return 0;
  },
});

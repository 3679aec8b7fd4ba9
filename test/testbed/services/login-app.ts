// Starts the login web application (login-app-server.ts) with this Bun binary inside the victim
// namespace, on loopback only: clients reach it through nginx's /app/.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Netns } from "../../harness/netns.ts";
import type { LoginAppConfig } from "./login-app-server.ts";
import { startListeningService, type ServiceProcess } from "./process.ts";

export const LOGIN_APP_PORT = 8081;

export async function startLoginApp(victim: Netns, dir: string, user: string, password: string): Promise<ServiceProcess> {
  const configFile = join(dir, "login-app.json");
  const config: LoginAppConfig = { port: LOGIN_APP_PORT, user, password };
  writeFileSync(configFile, JSON.stringify(config), { mode: 0o600 });
  const script = join(import.meta.dir, "login-app-server.ts");
  const argv = [process.execPath, script, configFile];
  return startListeningService(victim, { name: "login web app", argv, logFile: join(dir, "login-app.log"), port: LOGIN_APP_PORT });
}

// Secrets stay out of argv and printed output. A real `xids run` serves the control API on TCP
// with its bearer token from token_file; real client processes authenticate with --token-file or
// $XIDS_TOKEN (the token is not in their argv), --token works but warns. A secret file that is
// missing or empty stops the start with the file and the setting named. `config check --print`
// prints every secret as "***" and never a secret file's contents.
import { describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { connectControl } from "../../client/control.ts";
import { BUN, Proc, REPO, TempDir, waitFor, xids } from "./util.ts";

const TOKEN = "control-token-from-a-file-7f3a9c";

function controlConfig(dir: TempDir, tokenFile: string): string {
  const config = dir.file("xids.yaml");
  writeFileSync(
    config,
    `dataplane: { state_dir: ${dir.file("state")} }
pipeline: { models: [], responders: [] }
plugins: []
control: { socket: ${dir.file("ctl.sock")}, tcp: { listen: "127.0.0.1:0", token_file: ${tokenFile} } }
`,
  );
  return config;
}

describe("secrets", () => {
  test("the client reads the token from --token-file or $XIDS_TOKEN, never needs it in argv; --token warns", async () => {
    using dir = new TempDir();
    const tokenFile = dir.file("control.token");
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 });
    const sock = dir.file("ctl.sock");
    using agent = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", controlConfig(dir, tokenFile)]);
    const local = connectControl({ socket: sock, timeoutMs: 1_000 });
    try {
      const port = await waitFor("the TCP control API", () => /control API on tcp 127\.0\.0\.1:(\d+) \(bearer token\)/.exec(agent.err)?.[1], 20_000);
      const address = `127.0.0.1:${port}`;

      // A long-running client: what `ps` shows of it names the file, not the token.
      using watcher = new Proc([BUN, join(REPO, "core/main.ts"), "watch", "--address", address, "--token-file", tokenFile]);
      await waitFor("the watch client to be let in", async () => (await local.getStats()).watchClients === 1, 10_000);
      const argv = readFileSync(`/proc/${watcher.pid}/cmdline`, "utf8").split("\0");
      expect(argv).toContain(tokenFile);
      expect(argv.join(" ")).not.toContain(TOKEN);
      expect(readFileSync(`/proc/${watcher.pid}/environ`, "utf8")).not.toContain(TOKEN);
      watcher.proc.kill("SIGINT");
      expect(await watcher.exited(5_000)).toBe(0);
      expect(watcher.err).toBe("");

      const env = await xids(["status", "--address", address], { XIDS_TOKEN: TOKEN });
      expect([env.code, env.err]).toEqual([0, ""]);
      expect(env.out).toContain("running");

      const inArgv = await xids(["status", "--address", address, "--token", TOKEN]);
      expect(inArgv.code).toBe(0);
      expect(inArgv.err).toContain("xids: warning: --token shows the token to every user of this host (ps, /proc); use --token-file <f> or $XIDS_TOKEN");

      // Without it, or with the wrong one, the agent refuses; a watch client gives up at once.
      const none = await xids(["status", "--address", address], { XIDS_TOKEN: "" });
      expect([none.code, none.err]).toEqual([1, "xids status: UNAUTHENTICATED: missing or wrong bearer token (metadata 'authorization: Bearer <token>')\n"]);
      const wrongFile = dir.file("wrong.token");
      writeFileSync(wrongFile, "not-the-token-at-all-000");
      const wrong = await xids(["watch", "--address", address, "--token-file", wrongFile]);
      expect(wrong.code).toBe(1);
      expect(wrong.err).toStartWith("xids watch: UNAUTHENTICATED: missing or wrong bearer token");
      expect(wrong.err).not.toContain("retry");

      const missing = await xids(["status", "--address", address, "--token-file", dir.file("nope")]);
      expect(missing.code).toBe(1);
      expect(missing.err).toStartWith(`xids: --token-file: cannot read the secret file ${dir.file("nope")}: ENOENT`);
      const emptyFile = dir.file("empty.token");
      writeFileSync(emptyFile, "\n");
      expect((await xids(["status", "--address", address, "--token-file", emptyFile])).err).toBe(`xids: --token-file: the secret file ${emptyFile} is empty\n`);
      const both = await xids(["status", "--address", address, "--token-file", tokenFile, "--token", TOKEN]);
      expect([both.code, both.err]).toEqual([2, "xids status: expected at most one of --token or --token-file\n"]);
    } finally {
      local.close();
      agent.proc.kill("SIGTERM");
      await agent.exited(10_000);
    }
  }, 60_000);

  test("a missing or empty secret file stops the start, naming the file and the setting", async () => {
    using dir = new TempDir();
    const run = async (config: string) => {
      using p = new Proc([BUN, join(REPO, "core/main.ts"), "run", "--config", config]);
      return { code: await p.exited(20_000), err: p.err };
    };
    const empty = dir.file("empty.token");
    writeFileSync(empty, "  \n");
    const control = await run(controlConfig(dir, empty));
    expect(control.code).toBe(1);
    expect(control.err).toContain(`start-up failed: control API: control.tcp.token_file: the secret file ${empty} is empty`);

    const hook = dir.file("hook.yaml");
    const secretFile = dir.file("absent.secret");
    writeFileSync(
      hook,
      `dataplane: { state_dir: ${dir.file("state")} }
pipeline: { models: [], responders: [hook] }
plugins:
  - { id: hook, kind: responder, builtin: webhook, config: { url: "http://127.0.0.1:9/x", secret_file: ${secretFile} } }
control: { socket: ${dir.file("hook.sock")} }
`,
    );
    const webhook = await run(hook);
    expect(webhook.code).toBe(1);
    expect(webhook.err).toContain(`start-up failed: plugin "hook" failed to start: secret_file: cannot read the secret file ${secretFile}: ENOENT`);
    // An empty file was once an unsigned webhook: now it is an error too.
    writeFileSync(secretFile, "");
    expect((await run(hook)).err).toContain(`plugin "hook" failed to start: secret_file: the secret file ${secretFile} is empty`);
  }, 60_000);

  test("config check --print masks every secret and prints no secret file's contents", async () => {
    using dir = new TempDir();
    const fileSecret = "webhook-secret-in-a-file-d41d8c";
    const secretFile = dir.file("hook.secret");
    writeFileSync(secretFile, fileSecret);
    const secrets = ["control-token-inline-5e2b7a91", "webhook-secret-inline-0a9f33c1", "Bearer header-secret-77aa", "env-api-key-c0ffee", "db-password-b16b00b5"];
    const config = dir.file("xids.yaml");
    writeFileSync(
      config,
      `control: { socket: ${dir.file("ctl.sock")}, tcp: { listen: "127.0.0.1:0", token: ${secrets[0]} } }
pipeline: { models: [ext], responders: [hook, hook2] }
plugins:
  - { id: hook, kind: responder, builtin: webhook, config: { url: "http://127.0.0.1:9/x", secret: ${secrets[1]}, headers: { Authorization: "${secrets[2]}" } } }
  - { id: hook2, kind: responder, builtin: webhook, config: { url: "http://127.0.0.1:9/y", secret_file: ${secretFile} } }
  - id: ext
    kind: model
    external: { address: "unix:${dir.file("ext.sock")}", command: [/bin/true], env: { SIEM_API_KEY: ${secrets[3]} } }
    config: { db_password: ${secrets[4]}, threshold: 3 }
`,
    );
    const r = await xids(["config", "check", config, "--print"]);
    expect(r.code).toBe(0);
    for (const s of [...secrets, fileSecret]) expect(r.out).not.toContain(s);
    const printed = JSON.parse(r.out.slice(r.out.indexOf("\n") + 1));
    expect(printed.control.tcp.token).toBe("***");
    const byId = Object.fromEntries(printed.plugins.map((p: { id: string }) => [p.id, p]));
    expect(byId.hook.config.secret).toBe("***");
    expect(byId.hook.config.headers.Authorization).toBe("***");
    expect(byId.hook.config.url).toBe("http://127.0.0.1:9/x"); // what is not secret is printed as it is
    expect(byId.hook2.config.secret_file).toBe(secretFile); // the path, not what is in it
    expect(byId.ext.external.env.SIEM_API_KEY).toBe("***");
    expect(byId.ext.config).toEqual({ db_password: "***", threshold: 3 });
  });
});

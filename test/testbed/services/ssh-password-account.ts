// A person's account that logs in to the victim's sshd with a password, so a benign password
// log-in that succeeds (what tells an employee from a brute force) exists, without adding a user
// to the machine. sshd runs in a mount namespace of its own in which /etc/passwd and /etc/shadow
// are copies with the account appended and /home is a small tmpfs holding its home directory:
// the host's files are never touched, and everything vanishes with sshd.
//
// Wiring: sshd.ts starts `withPasswordAccount(dir, ["/usr/sbin/sshd", "-D", "-e", "-f", config])`
// instead of the bare argv (PasswordAuthentication is already yes; root stays key-only).
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The account: not in any brute-force list, its password not in any leaked list. */
export const SSH_PASSWORD_ACCOUNT = { user: "kwalker", password: "Hn3&vTy7-qWs2#pLm" } as const;

/** Where its home directory is inside sshd's mount namespace. */
export const SSH_PASSWORD_HOME = `/home/${SSH_PASSWORD_ACCOUNT.user}`;

/** A uid no account of the machine uses (the first free one from 61000). */
function freeUid(passwd: string): number {
  const used = new Set(passwd.split("\n").map((l) => Number(l.split(":")[2])));
  let uid = 61_000;
  while (used.has(uid)) uid++;
  return uid;
}

/** The group of the account: users (100) where it exists, else nogroup. */
function groupId(): number {
  const groups = readFileSync("/etc/group", "utf8").split("\n").map((l) => l.split(":"));
  const users = groups.find((g) => g[0] === "users");
  if (users) return Number(users[2]);
  const nogroup = groups.find((g) => g[0] === "nogroup");
  return nogroup ? Number(nogroup[2]) : 65_534;
}

function sha512Crypt(password: string): string {
  const hash = Bun.spawnSync(["openssl", "passwd", "-6", "-stdin"], { stdin: new TextEncoder().encode(password), stdout: "pipe", stderr: "pipe" });
  if (hash.exitCode !== 0) throw new Error(`ssh password account: openssl passwd failed: ${hash.stderr.toString().trim()}`);
  return hash.stdout.toString().trim();
}

/**
 * Writes the passwd and shadow copies into `dir` and returns `argv` wrapped so that it runs in
 * its own mount namespace with them bound over the real files and /home on a tmpfs.
 * Every step is a plain exec (unshare, sh, mount), so the pid is still the server's own.
 */
export function withPasswordAccount(dir: string, argv: string[]): string[] {
  if (!existsSync("/home")) throw new Error("ssh password account: /home does not exist to mount the home directory on");
  mkdirSync(dir, { recursive: true });
  const { user, password } = SSH_PASSWORD_ACCOUNT;
  const passwd = readFileSync("/etc/passwd", "utf8");
  const shadow = readFileSync("/etc/shadow", "utf8");
  const uid = freeUid(passwd);
  const gid = groupId();
  const days = Math.floor(Date.now() / 86_400_000);
  const passwdFile = join(dir, "passwd");
  const shadowFile = join(dir, "shadow");
  const lines = (text: string) => text.split("\n").filter((l) => l !== "" && !l.startsWith(`${user}:`));
  writeFileSync(passwdFile, [...lines(passwd), `${user}:x:${uid}:${gid}:K Walker:${SSH_PASSWORD_HOME}:/bin/bash`].join("\n") + "\n", { mode: 0o644 });
  writeFileSync(shadowFile, [...lines(shadow), `${user}:${sha512Crypt(password)}:${days}:0:99999:7:::`].join("\n") + "\n", { mode: 0o600 });
  const script = [
    "set -e",
    'mount --bind "$1" /etc/passwd',
    'mount --bind "$2" /etc/shadow',
    // Room for a few benign uploads (scp, rsync); the tmpfs dies with the namespace.
    "mount -t tmpfs -o size=256m,mode=0755 xids-home /home",
    'mkdir -m 0700 "$3"',
    'chown "$4:$5" "$3"',
    "shift 5",
    'exec "$@"',
  ].join("; ");
  return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh", passwdFile, shadowFile, SSH_PASSWORD_HOME, String(uid), String(gid), ...argv];
}

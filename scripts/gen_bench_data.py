#!/usr/bin/env python3
"""Write synthetic evidence files for the in-memory ingest and index benchmarks.

Both benches/ingest.rs (`--bench ingest`) and benches/search.rs (`--bench search`)
read these files from the folder that ARGUS_BENCH_DATA names.

Writes two files into the output folder:
  syslog.log    RFC 3164 lines: sshd failures and successes, sudo, cron,
                kernel and systemd messages from mixed hosts and addresses.
  events.jsonl  Splunk JSON export lines with mixed sourcetypes and 8-15
                fields each, one in five wrapped as {"preview":false,"result":...}.

The output is the same for the same arguments (fixed random seed).

Usage: gen_bench_data.py OUT_DIR [--syslog-lines N] [--json-lines N]
Then:  ARGUS_BENCH_DATA=OUT_DIR cargo bench --bench ingest
  or:  ARGUS_BENCH_DATA=OUT_DIR cargo bench --bench search   (also needs rg on the PATH)
"""

import argparse
import json
import os
import random

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
USERS = ["root", "admin", "alice", "bob", "deploy", "oracle", "test", "ubuntu", "postgres", "git"]
HOSTS = [f"web{n:02}" for n in range(1, 21)] + ["db01", "db02", "bastion", "mail01"]
SOURCETYPES = ["access_combined", "linux_secure", "WinEventLog:Security", "aws:cloudtrail"]
START_EPOCH = 1_704_067_200  # 2024-01-01T00:00:00Z


def random_ip(rng):
    return f"{rng.randint(1, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def syslog_message(rng):
    """Return (program, message) for one line, weighted like a busy auth log."""
    roll = rng.random()
    user = rng.choice(USERS)
    ip = random_ip(rng)
    port = rng.randint(1024, 65535)
    if roll < 0.30:
        return "sshd", f"Failed password for {user} from {ip} port {port} ssh2"
    if roll < 0.40:
        return "sshd", f"Failed password for invalid user {user}{rng.randint(0, 99)} from {ip} port {port} ssh2"
    if roll < 0.48:
        return "sshd", f"Invalid user {user}{rng.randint(0, 99)} from {ip}"
    if roll < 0.53:
        method = rng.choice(["password", "publickey"])
        return "sshd", f"Accepted {method} for {user} from {ip} port {port} ssh2"
    if roll < 0.62:
        return "sshd", (
            "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
            f"ruser= rhost={ip}  user={user}"
        )
    if roll < 0.70:
        return "sshd", f"Received disconnect from {ip}: 11: Bye Bye [preauth]"
    if roll < 0.78:
        command = rng.choice(["/bin/ls /root", "/usr/bin/apt-get update", "/bin/cat /etc/shadow"])
        return "sudo", f"   {user} : TTY=pts/{rng.randint(0, 9)} ; PWD=/home/{user} ; USER=root ; COMMAND={command}"
    if roll < 0.88:
        return "CRON", "(root) CMD (run-parts /etc/cron.hourly)"
    if roll < 0.95:
        return "kernel", (
            f"[UFW BLOCK] IN=eth0 OUT= SRC={ip} DST=10.0.0.{rng.randint(1, 254)} LEN=60 "
            f"PROTO=TCP SPT={port} DPT={rng.choice([22, 23, 3389, 445])}"
        )
    return "systemd", f"Started Session {rng.randint(1, 99999)} of user {user}."


def write_syslog(path, count, rng):
    epoch = START_EPOCH
    with open(path, "w", encoding="utf-8") as out:
        for _ in range(count):
            epoch += rng.choice([0, 0, 1, 2])
            month_day = time_parts(epoch)
            program, message = syslog_message(rng)
            pid = "" if program in ("kernel",) else f"[{rng.randint(100, 65000)}]"
            out.write(f"{month_day} {rng.choice(HOSTS)} {program}{pid}: {message}\n")


def time_parts(epoch):
    days, second = divmod(epoch - START_EPOCH, 86_400)
    # Stay inside January so the month arithmetic stays trivial.
    day = 1 + days % 31
    hour, rest = divmod(second, 3600)
    minute, sec = divmod(rest, 60)
    return f"{MONTHS[0]} {day:2} {hour:02}:{minute:02}:{sec:02}"


def json_event(rng, epoch):
    sourcetype = rng.choice(SOURCETYPES)
    host = rng.choice(HOSTS)
    ip = random_ip(rng)
    user = rng.choice(USERS)
    event = {
        "_time": f"{epoch}.{rng.randint(0, 999):03}",
        "host": host,
        "source": f"/var/log/{sourcetype.replace(':', '_')}.log",
        "sourcetype": sourcetype,
        "index": rng.choice(["main", "security", "web"]),
    }
    if sourcetype == "access_combined":
        path = rng.choice(["/", "/login", "/admin", "/api/v1/items", "/wp-login.php"])
        status = rng.choice([200, 200, 302, 404, 500])
        event["_raw"] = f'{ip} - - [01/Jan/2024:00:00:00 +0000] "GET {path} HTTP/1.1" {status} 512'
        extra = {"clientip": ip, "method": "GET", "uri_path": path, "status": str(status)}
    elif sourcetype == "linux_secure":
        event["_raw"] = f"Jan  1 00:00:00 {host} sshd[{rng.randint(100, 9999)}]: Failed password for {user} from {ip} port 22 ssh2"
        extra = {"process": "sshd"}
    elif sourcetype == "WinEventLog:Security":
        code = rng.choice([4624, 4625, 4672, 4688])
        event["_raw"] = f"EventCode={code} Account_Name={user} Source_Network_Address={ip}"
        extra = {"EventCode": str(code), "Logon_Type": str(rng.choice([2, 3, 10]))}
    else:
        event["_raw"] = json.dumps({"eventName": "ConsoleLogin", "sourceIPAddress": ip})
        extra = {"eventName": "ConsoleLogin", "userIdentity": {"type": "IAMUser", "userName": user}}
    event.update(extra)
    # Pad to between 8 and 15 fields with the extras Splunk exports carry.
    padding = ["linecount", "punct", "splunk_server", "eventtype", "tag", "date_hour", "date_wday"]
    target = rng.randint(8, 15)
    while len(event) < target and padding:
        name = padding.pop(0)
        event[name] = ["authentication", "failure"] if name == "tag" else f"{name}-{rng.randint(0, 9)}"
    return event


def write_json(path, count, rng):
    epoch = START_EPOCH
    with open(path, "w", encoding="utf-8") as out:
        for n in range(count):
            epoch += rng.choice([0, 1])
            event = json_event(rng, epoch)
            if n % 5 == 0:
                event = {"preview": False, "result": event}
            out.write(json.dumps(event, separators=(",", ":")))
            out.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="folder to write syslog.log and events.jsonl into")
    parser.add_argument("--syslog-lines", type=int, default=1_000_000)
    parser.add_argument("--json-lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20240101)
    args = parser.parse_args()

    os.makedirs(args.out_dir, exist_ok=True)
    rng = random.Random(args.seed)
    write_syslog(os.path.join(args.out_dir, "syslog.log"), args.syslog_lines, rng)
    write_json(os.path.join(args.out_dir, "events.jsonl"), args.json_lines, rng)


if __name__ == "__main__":
    main()

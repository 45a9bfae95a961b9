#!/usr/bin/env python3
"""Run a command under an emulation of systemd/hearth.service's hardening, without systemd.

Each option applies what the systemd option of the same name does to the process, with the
same kernel mechanisms where they are reachable from an unprivileged-to-root helper:

- file system (a private mount namespace): ProtectSystem=strict, ProtectHome=yes, PrivateTmp=yes,
  ProtectProc=invisible, ProcSubset=pid;
- credentials: DynamicUser=yes (an unused UID/GID, the state and cache folders owned by it) with
  SupplementaryGroups=audio, CapabilityBoundingSet= (empty), NoNewPrivileges=yes, UMask=0077;
- seccomp filters, one per option as systemd builds them (the kernel applies the strictest):
  SystemCallFilter=@system-service with SystemCallErrorNumber=EPERM (the list comes from this
  machine's ``systemd-analyze syscall-filter``), SystemCallArchitectures=native,
  MemoryDenyWriteExecute, RestrictAddressFamilies, RestrictNamespaces, LockPersonality,
  RestrictRealtime, RestrictSUIDSGID, and the system-call halves of ProtectClock,
  ProtectHostname, ProtectKernelLogs and ProtectKernelModules.

Usage (as root; the command is exec'ed inside the sandbox):

    scripts/sandbox.py [--only NAME,...] [--skip NAME,...] [--ro PATH] [--rw PATH] -- CMD ...

``--ro`` keeps a path readable under the new /tmp and home folders (a configuration, an input
file); ``--rw`` keeps a path writable under ProtectSystem=strict (StateDirectory=, CacheDirectory=;
with DynamicUser it is handed to the dynamic user). The interpreter's own tree is kept readable
when it lives in a home folder, as a real install's /usr/bin/python3 is.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import grp
import os
import stat
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

__all__ = ["OPTIONS", "Hardening", "main"]

OPTIONS: tuple[str, ...] = (
    "ProtectSystem",
    "ProtectHome",
    "PrivateTmp",
    "ProtectProc",
    "ProcSubset",
    "DynamicUser",
    "CapabilityBoundingSet",
    "NoNewPrivileges",
    "UMask",
    "SystemCallFilter",
    "SystemCallArchitectures",
    "MemoryDenyWriteExecute",
    "RestrictAddressFamilies",
    "RestrictNamespaces",
    "LockPersonality",
    "RestrictRealtime",
    "RestrictSUIDSGID",
    "ProtectClock",
    "ProtectHostname",
    "ProtectKernelLogs",
    "ProtectKernelModules",
)

DYNAMIC_ID = 61_873  # inside systemd's DynamicUser range (61184-65519), unused here
ADDRESS_FAMILIES = ("AF_UNIX", "AF_INET", "AF_INET6", "AF_NETLINK")

_YES = ("yes", "true", "on", "1")
# how a unit's value turns each option on
_UNIT_VALUES: dict[str, Callable[[str], bool]] = {
    "ProtectSystem": lambda v: v == "strict",
    "ProtectProc": lambda v: v in ("invisible", "noaccess"),
    "ProcSubset": lambda v: v == "pid",
    "CapabilityBoundingSet": lambda v: v == "",
    "UMask": lambda v: True,
    "SystemCallFilter": lambda v: v != "",
    "SystemCallArchitectures": lambda v: v == "native",
    "RestrictAddressFamilies": lambda v: v not in ("", "none"),
}


@dataclass(frozen=True)
class Hardening:
    """What to apply: option names, and the values of the options that take values."""

    options: frozenset[str]
    families: tuple[str, ...] = ADDRESS_FAMILIES
    syscalls_allowed: tuple[str, ...] = ("@system-service",)
    syscalls_denied: tuple[str, ...] = ()
    syscall_errno: str = "EPERM"  # empty: the process is killed, systemd's default
    groups: tuple[str, ...] = ("audio",)
    umask: int = 0o077

    @classmethod
    def from_unit(cls, path: Path) -> Hardening:
        """The emulated options a unit file's [Service] section turns on, with its values."""
        settings: dict[str, list[str]] = {}
        section = ""
        for raw in path.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if line.startswith("[") and line.endswith("]"):
                section = line[1:-1]
            elif section == "Service" and "=" in line and not line.startswith(("#", ";")):
                key, value = (part.strip() for part in line.split("=", 1))
                settings.setdefault(key, []).append(value)
        options = {
            name
            for name in OPTIONS
            if name in settings and _UNIT_VALUES.get(name, lambda v: v in _YES)(settings[name][-1])
        }
        filters = [e for v in settings.get("SystemCallFilter", []) for e in v.split()]
        return cls(
            frozenset(options),
            families=tuple(settings.get("RestrictAddressFamilies", [""])[-1].split()),
            syscalls_allowed=tuple(e for e in filters if not e.startswith("~")),
            syscalls_denied=tuple(e.lstrip("~") for e in filters if e.startswith("~")),
            syscall_errno=settings.get("SystemCallErrorNumber", [""])[-1],
            groups=tuple(" ".join(settings.get("SupplementaryGroups", [])).split()),
            umask=int(settings.get("UMask", ["0022"])[-1], 8),
        )


_libc = ctypes.CDLL(None, use_errno=True)
_CLONE_NEWNS = 0x00020000
_NAMESPACE_FLAGS = 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
_NAMESPACE_FLAGS |= _CLONE_NEWNS | 0x00000080  # CLONE_NEWCGROUP .. CLONE_NEWNET, NEWNS, NEWTIME
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 2, 4, 4096, 16384, 1 << 18
_AT_RECURSIVE, _MOUNT_ATTR_RDONLY, _SYS_MOUNT_SETATTR = 0x8000, 0x1, 442
_PR_SET_NO_NEW_PRIVS, _PR_CAPBSET_DROP = 38, 24
_PROT_WRITE, _PROT_EXEC, _SHM_EXEC = 0x2, 0x4, 0o100000
_O_CREAT = 0o100


def _check(result: int, what: str) -> None:
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")


def _mount(source: str, target: str, fstype: str | None, flags: int, data: str = "") -> None:
    _check(
        _libc.mount(
            source.encode(),
            target.encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {target}",
    )


class _MountAttr(ctypes.Structure):
    _fields_ = (
        ("attr_set", ctypes.c_uint64),
        ("attr_clr", ctypes.c_uint64),
        ("propagation", ctypes.c_uint64),
        ("userns_fd", ctypes.c_uint64),
    )


def _read_only(path: str, read_only: bool, recursive: bool) -> None:
    attr = _MountAttr(
        _MOUNT_ATTR_RDONLY if read_only else 0, 0 if read_only else _MOUNT_ATTR_RDONLY
    )
    flags = _AT_RECURSIVE if recursive else 0
    result = _libc.syscall(
        _SYS_MOUNT_SETATTR, -100, path.encode(), flags, ctypes.byref(attr), ctypes.sizeof(attr)
    )
    _check(result, f"mount_setattr {path}")


def _interpreter_tree() -> Path | None:
    """The interpreter's installation when it lives in a home folder (pyenv), else None."""
    real = Path(os.path.realpath(sys.executable)).parents[1]
    homes = (Path("/root"), Path("/home"))
    return real if any(home in real.parents for home in homes) else None


def _file_system(enabled: frozenset[str], keep_ro: list[Path], keep_rw: list[Path]) -> None:
    """A private mount namespace with the requested file-system options applied."""
    _check(_libc.unshare(_CLONE_NEWNS), "unshare(CLONE_NEWNS)")
    _mount("none", "/", None, _MS_REC | _MS_PRIVATE)
    interpreter = _interpreter_tree()
    kept = [(p, False) for p in keep_ro] + [(p, True) for p in keep_rw]
    if interpreter is not None:
        kept.append((interpreter, False))
    # O_PATH handles survive the folders above them being hidden by new mounts
    handles = [(path, writable, os.open(path, os.O_PATH)) for path, writable in kept]
    hidden: list[str] = []
    if "PrivateTmp" in enabled:
        hidden += ["/tmp", "/var/tmp"]
    if "ProtectHome" in enabled:
        hidden += [p for p in ("/root", "/home", "/run/user") if os.path.isdir(p)]
    for folder in hidden:
        private_tmp = folder in ("/tmp", "/var/tmp")
        mode = "1777" if private_tmp else "0755" if folder == "/root" else "0000"
        _mount("tmpfs", folder, "tmpfs", _MS_NOSUID | _MS_NODEV, f"mode={mode}")
    for path, _writable, handle in handles:  # each its own mount, back where it was
        if os.path.isdir(f"/proc/self/fd/{handle}"):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(path.parent, exist_ok=True)
            if not path.exists():
                path.touch()
        _mount(f"/proc/self/fd/{handle}", str(path), None, _MS_BIND | _MS_REC)
    # ProtectProc=invisible hides other users' processes; ProcSubset=pid every file of /proc
    # that is not about a process (cpuinfo, meminfo, sys, ...)
    proc = [
        o
        for o, on in (("hidepid=invisible", "ProtectProc"), ("subset=pid", "ProcSubset"))
        if on in enabled
    ]
    if proc:
        _mount("proc", "/proc", "proc", _MS_NOSUID | _MS_NODEV, ",".join(proc))
    if "ProtectSystem" in enabled:
        _read_only("/", True, recursive=True)
        # strict leaves the API file systems and the unit's own folders writable
        for api in ("/dev", "/dev/shm", "/proc"):
            if os.path.ismount(api):
                _read_only(api, False, recursive=False)
        for folder in hidden:
            if folder in ("/tmp", "/var/tmp"):
                _read_only(folder, False, recursive=False)
        for path, writable, _handle in handles:
            if writable:
                _read_only(str(path), False, recursive=True)
    for _path, _writable, handle in handles:
        os.close(handle)


def _credentials(hardening: Hardening, keep_rw: list[Path], last_cap: int) -> None:
    enabled = hardening.options
    if "CapabilityBoundingSet" in enabled:
        for cap in range(last_cap + 1):
            _check(_libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap}")
    if "DynamicUser" in enabled:
        for path in keep_rw:  # StateDirectory= and CacheDirectory= belong to the dynamic user
            for root, _dirs, files in os.walk(path):
                for name in [root, *(os.path.join(root, f) for f in files)]:
                    os.chown(name, DYNAMIC_ID, DYNAMIC_ID, follow_symlinks=False)
        os.setgroups([grp.getgrnam(name).gr_gid for name in hardening.groups])
        os.setgid(DYNAMIC_ID)
        os.setuid(DYNAMIC_ID)
        os.environ["USER"] = os.environ["LOGNAME"] = f"hearth-{DYNAMIC_ID}"
    if "UMask" in enabled:
        os.umask(hardening.umask)
    if "NoNewPrivileges" in enabled or "SystemCallFilter" in enabled:
        _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "PR_SET_NO_NEW_PRIVS")


def _system_call_groups(name: str, seen: set[str] | None = None) -> set[str]:
    """The system calls of a systemd group such as ``@system-service``, nested groups expanded."""
    seen = set() if seen is None else seen
    seen.add(name)
    listing = subprocess.run(
        ["systemd-analyze", "syscall-filter", name], capture_output=True, text=True, check=True
    ).stdout
    calls: set[str] = set()
    for line in listing.splitlines()[1:]:
        entry = line.strip()
        if not entry or entry.startswith("#"):
            continue
        if entry.startswith("@"):
            if entry not in seen:
                calls |= _system_call_groups(entry, seen)
        else:
            calls.add(entry)
    return calls


def _expand(entry: str) -> set[str]:
    return _system_call_groups(entry) if entry.startswith("@") else {entry}


def _seccomp(hardening: Hardening) -> tuple[list[Any], list[str]]:
    """One filter per enabled option, and the system calls this libseccomp does not know."""
    import pyseccomp as sc

    enabled = hardening.options
    unknown: list[str] = []

    def rule(filt: sc.SyscallFilter, action: int, call: str, *args: sc.Arg) -> None:
        try:
            filt.add_rule(action, call, *args)
        except (OSError, RuntimeError, ValueError):
            unknown.append(call)  # systemd skips these too (not on this architecture)

    def deny(calls: Iterable[str], errno_: int = errno.EPERM) -> sc.SyscallFilter:
        filt = sc.SyscallFilter(sc.ALLOW)
        for call in calls:
            rule(filt, sc.ERRNO(errno_), call)
        return filt

    filters: list[sc.SyscallFilter] = []
    if "SystemCallArchitectures" in enabled:
        filters.append(sc.SyscallFilter(sc.ALLOW))  # a filter lists the native architecture only
    if "MemoryDenyWriteExecute" in enabled:
        filt = sc.SyscallFilter(sc.ALLOW)
        both = _PROT_WRITE | _PROT_EXEC
        rule(filt, sc.ERRNO(errno.EPERM), "mmap", sc.Arg(2, sc.MASKED_EQ, both, both))
        for call in ("mprotect", "pkey_mprotect"):
            rule(filt, sc.ERRNO(errno.EPERM), call, sc.Arg(2, sc.MASKED_EQ, _PROT_EXEC, _PROT_EXEC))
        rule(filt, sc.ERRNO(errno.EPERM), "shmat", sc.Arg(2, sc.MASKED_EQ, _SHM_EXEC, _SHM_EXEC))
        filters.append(filt)
    if "RestrictAddressFamilies" in enabled:
        import socket

        families = sorted(int(getattr(socket, name)) for name in hardening.families)
        filt = sc.SyscallFilter(sc.ALLOW)
        refuse = sc.ERRNO(errno.EAFNOSUPPORT)
        rule(filt, refuse, "socket", sc.Arg(0, sc.LT, families[0]))
        rule(filt, refuse, "socket", sc.Arg(0, sc.GT, families[-1]))
        for family in range(families[0] + 1, families[-1]):
            if family not in families:
                rule(filt, refuse, "socket", sc.Arg(0, sc.EQ, family))
        filters.append(filt)
    if "RestrictNamespaces" in enabled:
        filt = deny(["setns"])
        for bit in range(64):
            flag = 1 << bit
            if _NAMESPACE_FLAGS & flag:
                for call in ("unshare", "clone"):
                    rule(filt, sc.ERRNO(errno.EPERM), call, sc.Arg(0, sc.MASKED_EQ, flag, flag))
        rule(filt, sc.ERRNO(errno.ENOSYS), "clone3")  # its flags live in memory: glibc falls back
        filters.append(filt)
    if "LockPersonality" in enabled:
        filt = sc.SyscallFilter(sc.ALLOW)
        current = _libc.personality(0xFFFFFFFF)
        rule(filt, sc.ERRNO(errno.EPERM), "personality", sc.Arg(0, sc.NE, current))
        filters.append(filt)
    if "RestrictRealtime" in enabled:
        filt = sc.SyscallFilter(sc.ALLOW)
        for policy in (1, 2, 6):  # SCHED_FIFO, SCHED_RR, SCHED_DEADLINE
            rule(filt, sc.ERRNO(errno.EPERM), "sched_setscheduler", sc.Arg(1, sc.EQ, policy))
        filters.append(filt)
    if "RestrictSUIDSGID" in enabled:
        filt = sc.SyscallFilter(sc.ALLOW)
        for call, arg in (("chmod", 1), ("fchmod", 1), ("fchmodat", 2), ("creat", 1)):
            for bit in (stat.S_ISUID, stat.S_ISGID):
                rule(filt, sc.ERRNO(errno.EPERM), call, sc.Arg(arg, sc.MASKED_EQ, bit, bit))
        for call, flags_arg in (("open", 1), ("openat", 2)):
            for bit in (stat.S_ISUID, stat.S_ISGID):
                rule(
                    filt,
                    sc.ERRNO(errno.EPERM),
                    call,
                    sc.Arg(flags_arg, sc.MASKED_EQ, _O_CREAT, _O_CREAT),
                    sc.Arg(flags_arg + 1, sc.MASKED_EQ, bit, bit),
                )
        filters.append(filt)
    if "ProtectClock" in enabled:
        filters.append(deny(_system_call_groups("@clock")))
    if "ProtectHostname" in enabled:
        filters.append(deny(["sethostname", "setdomainname"]))
    if "ProtectKernelLogs" in enabled:
        filters.append(deny(["syslog"]))
    if "ProtectKernelModules" in enabled:
        filters.append(deny(_system_call_groups("@module")))
    if "SystemCallFilter" in enabled:  # last: it refuses seccomp() itself
        code = hardening.syscall_errno
        allowed = sc.SyscallFilter(sc.ERRNO(getattr(errno, code)) if code else sc.KILL_PROCESS)
        calls = set().union(*(_expand(e) for e in ("@default", *hardening.syscalls_allowed)))
        calls -= set().union(*(_expand(e) for e in hardening.syscalls_denied))
        for call in sorted(calls):
            rule(allowed, sc.ALLOW, call)
        filters.append(allowed)
    return filters, unknown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--unit", type=Path, help="apply what this unit file turns on")
    parser.add_argument("--only", default="", help="apply only these options (comma-separated)")
    parser.add_argument("--add", default="", help="apply these options too (comma-separated)")
    parser.add_argument("--skip", default="", help="leave these options out (comma-separated)")
    parser.add_argument(
        "--syscall-filter", action="append", default=[], help="one more SystemCallFilter= value"
    )
    parser.add_argument("--ro", action="append", type=Path, default=[], help="keep PATH readable")
    parser.add_argument("--rw", action="append", type=Path, default=[], help="keep PATH writable")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD ARGS...")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command

    def names(text: str) -> set[str]:
        return {name for name in text.split(",") if name}

    hardening = Hardening.from_unit(args.unit) if args.unit else Hardening(frozenset(OPTIONS))
    chosen = names(args.only) or set(hardening.options)
    chosen = (chosen | names(args.add)) - names(args.skip)
    extra = [e for value in args.syscall_filter for e in value.split()]
    hardening = replace(
        hardening,
        options=frozenset(chosen),
        syscalls_allowed=hardening.syscalls_allowed + tuple(e for e in extra if e[0] != "~"),
        syscalls_denied=hardening.syscalls_denied + tuple(e[1:] for e in extra if e[0] == "~"),
    )
    wrong = sorted(chosen - set(OPTIONS))
    if wrong or not command:
        parser.error(f"unknown option {wrong[0]}" if wrong else "no command given after --")
    if os.geteuid() != 0:
        parser.error("run it as root: it builds a mount namespace and changes user")
    keep_ro = [p.resolve() for p in args.ro]
    keep_rw = [p.resolve() for p in args.rw]
    try:
        filters, unknown = _seccomp(hardening)
        last_cap = int(Path("/proc/sys/kernel/cap_last_cap").read_text())  # before ProcSubset
        _file_system(hardening.options, keep_ro, keep_rw)
        _credentials(hardening, keep_rw, last_cap)
        for filt in filters:
            filt.load()
    except (OSError, subprocess.CalledProcessError, KeyError, AttributeError) as err:
        print(f"sandbox: cannot apply the hardening: {err}", file=sys.stderr)
        return 1
    print(f"sandbox: {' '.join(o for o in OPTIONS if o in chosen)}", file=sys.stderr)
    if unknown:
        print(
            f"sandbox: not known to libseccomp: {' '.join(sorted(set(unknown)))}", file=sys.stderr
        )
    os.execvp(command[0], command)


if __name__ == "__main__":
    sys.exit(main())

"""`aml local up | down | status`."""
from __future__ import annotations

from aml.local import services


def _print(statuses: list[services.ServiceStatus], as_json: bool) -> None:
    if as_json:
        print(services.as_json(statuses))
        return
    for s in statuses:
        state = "running" if s.running else "stopped"
        owner = "managed" if s.managed else "external"
        print(f"{s.name:<13} {state:<8} {s.url:<45} {owner:<8} {s.detail}")


def _up(args) -> int:
    _print(services.up(), args.json)
    return 0


def _down(args) -> int:
    stopped = services.down()
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def _status(args) -> int:
    statuses = services.status()
    _print(statuses, args.json)
    return 0 if all(s.running for s in statuses) else 1


def register(sub) -> None:
    local = sub.add_parser("local", help="start, stop and inspect the local services (PostgreSQL, AWS emulator)")
    actions = local.add_subparsers(dest="action", required=True, metavar="ACTION")
    for name, func, text in (("up", _up, "start the services (idempotent)"),
                             ("down", _down, "stop the services this project started"),
                             ("status", _status, "show the services; exit 1 unless all run")):
        p = actions.add_parser(name, help=text)
        p.add_argument("--json", action="store_true", help="print JSON")
        p.set_defaults(func=func)

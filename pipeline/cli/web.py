"""`callcoach serve`, `callcoach users …` and `callcoach feedback …`: the web app and what manages it."""

import json
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli._util import (
    DEFAULT_DB,
    DbOpt,
    Language,
    LanguageOpt,
    ModelOpt,
    RedactOpt,
    analyze_options,
    app,
    err,
    fail,
    open_store,
    prepare_text_models,
    setup_logging,
)
from pipeline.errors import CallcoachError

users_app = typer.Typer(help="Web app accounts: reps upload calls, coaches review them, admins do both.", no_args_is_help=True)
feedback_app = typer.Typer(help="Coaches' judgements of findings, made in the web app.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(feedback_app, name="feedback")


class RoleChoice(str, Enum):
    rep = "rep"
    coach = "coach"
    admin = "admin"


def _read_password(stdin: bool) -> str:
    """From one line of standard input (scripts), else asked twice without echo."""
    if stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("password", hide_input=True, confirmation_prompt=True)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only; put HTTPS in front for others).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    db: DbOpt = DEFAULT_DB,
    data: Annotated[Path | None, typer.Option(help="Folder for uploaded recordings and their reports. Default: web/ beside the store.")] = None,
    max_upload_mb: Annotated[int, typer.Option(min=1, help="Largest recording accepted, in MB.")] = 200,
    uploads_per_hour: Annotated[int, typer.Option(min=1, help="Uploads per user per hour (refused ones count).")] = 60,
    max_call_minutes: Annotated[int, typer.Option(min=1, help="Longest recording accepted, in minutes of audio.")] = 180,
    quota_mb: Annotated[int, typer.Option(min=1, help="Storage each user's uploads may take, in MB.")] = 5120,
    secure_cookies: Annotated[bool, typer.Option("--secure-cookies", help="Mark cookies Secure (behind HTTPS; breaks plain http).")] = False,
    trust_proxy: Annotated[str, typer.Option(help="Addresses of your reverse proxy (comma-separated, e.g. 127.0.0.1): "
                                             "only from these is X-Forwarded-For taken as the client's address. "
                                             "Default: none, so no client can pick the address the sign-in throttle counts.")] = "",
    no_worker: Annotated[bool, typer.Option("--no-worker", help="Accept uploads but do not analyse them in this server.")] = False,
    model: ModelOpt = "base",
    language: LanguageOpt = Language.auto,
    redact: RedactOpt = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log each request and each analysed call.")] = False,
) -> None:
    """Run the web app: reps upload recordings, coaches review reports and judge findings."""
    import uvicorn

    from pipeline.audio.whisper_models import resolve
    from pipeline.web.app import create_app
    from pipeline.web.config import MIB, WebConfig

    setup_logging(verbose)
    store = open_store(db, create=True)
    users = store.db.execute("SELECT COUNT(*) FROM users").fetchone()[0]
    store.close()
    if not no_worker:
        prepare_text_models()
        try:
            resolve(model)  # fail now, in one line, rather than in the worker
        except CallcoachError as error:
            fail(str(error))
    config = WebConfig(
        db=db.resolve(),
        data_dir=(data or db.resolve().parent / "web").resolve(),
        max_upload_bytes=max_upload_mb * MIB,
        uploads_per_hour=uploads_per_hour,
        max_call_s=max_call_minutes * 60.0,
        storage_bytes_per_user=quota_mb * MIB,
        secure_cookies=secure_cookies,
        start_worker=not no_worker,
        analyze=analyze_options(model, language, redact=redact),
    )
    if not users:
        err.print(f"no users yet: add one with `callcoach users add NAME --role coach --db {db}`", highlight=False)
    err.print(f"callcoach web app on http://{host}:{port}/ (store {db}, uploads in {config.data_dir})", highlight=False)
    try:
        uvicorn.run(create_app(config), host=host, port=port, log_level="info" if verbose else "warning",
                    access_log=verbose, proxy_headers=bool(trust_proxy), forwarded_allow_ips=trust_proxy or None)
    except OSError as error:
        fail(f"cannot listen on {host}:{port}: {error.strerror or error}")

@users_app.command("add")
def users_add(
    name: Annotated[str, typer.Argument(help="Sign-in name; for a rep, the same name as their archive folder.")],
    role: Annotated[RoleChoice, typer.Option(help="rep, coach or admin.")],
    db: DbOpt = DEFAULT_DB,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from one line of stdin.")] = False,
) -> None:
    """Add a user (asks for the password unless --password-stdin)."""
    from pipeline.web import accounts

    store = open_store(db, create=True)
    try:
        accounts.check_name(name)
        user = accounts.add_user(store, name, role.value, _read_password(password_stdin))
    except CallcoachError as error:
        fail(str(error))
    err.print(f"user {user.name} added ({user.role})", highlight=False, markup=False)

@users_app.command("list")
def users_list(db: DbOpt = DEFAULT_DB) -> None:
    """List users: name, role, and whether they are disabled."""
    from pipeline.web import accounts

    for user in accounts.list_users(open_store(db, create=False)):
        typer.echo(f"{user.name}\t{user.role}{chr(9) + 'disabled' if user.disabled else ''}")

@users_app.command("passwd")
def users_passwd(
    name: str, db: DbOpt = DEFAULT_DB,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="Read the password from one line of stdin.")] = False,
) -> None:
    """Set a user's password (signs them out everywhere)."""
    from pipeline.web import accounts

    store = open_store(db, create=False)
    try:
        accounts.set_password(store, name, _read_password(password_stdin))
    except CallcoachError as error:
        fail(str(error))
    err.print(f"password of {name} changed", highlight=False, markup=False)

@users_app.command("disable")
def users_disable(name: str, db: DbOpt = DEFAULT_DB) -> None:
    """Stop a user from signing in (their calls and judgements stay)."""
    from pipeline.web import accounts

    try:
        accounts.set_disabled(open_store(db, create=False), name, True)
    except CallcoachError as error:
        fail(str(error))

@users_app.command("enable")
def users_enable(name: str, db: DbOpt = DEFAULT_DB) -> None:
    """Let a disabled user sign in again."""
    from pipeline.web import accounts

    try:
        accounts.set_disabled(open_store(db, create=False), name, False)
    except CallcoachError as error:
        fail(str(error))

@feedback_app.command("export")
def feedback_export(
    db: DbOpt = DEFAULT_DB,
    out: Annotated[Path | None, typer.Option(help="Write here (a .jsonl file for `callcoach eval`); default stdout.")] = None,
) -> None:
    """Judged calls as labeled transcripts (JSON Lines) that `callcoach eval FILE.jsonl` scores."""
    from pipeline.report.files import write_all_or_nothing
    from pipeline.store.feedback import export_lines

    store = open_store(db, create=False)
    try:
        lines = [json.dumps(line, ensure_ascii=False) + "\n" for line in export_lines(store)]
    except CallcoachError as error:
        fail(str(error))
    if out is None:
        sys.stdout.write("".join(lines))
    else:
        if out.suffix != ".jsonl":
            fail(f"{out}: name the export *.jsonl (that is how `callcoach eval` recognises it)")
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            write_all_or_nothing({out: "".join(lines)})
        except OSError as error:
            fail(f"cannot write {out}: {error.strerror or error}")
    err.print(f"{len(lines)} judged call(s) exported", highlight=False)

"""The reference gateways the benchmark puts beside Clinx: nginx as a plain reverse proxy and LiteLLM's proxy,
each in front of the same mock provider, each started as its own process with its config in the run's
temporary directory. Either one answers why it was skipped instead of starting when it cannot run here."""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.servers import Server, start

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx")

# Pinned on purpose: 1.82.7 and 1.82.8 on PyPI carried a credential stealer (March 2026) and 1.107.0 was pulled
# after another compromise. 1.82.6 is the last release before the first incident that downstream projects
# audited and pinned; a pinned version also keeps runs comparable over time.
LITELLM_REQUIREMENT = "litellm[proxy]==1.82.6"
LITELLM_INSTALL_SECONDS = 900


@dataclass(frozen=True)
class Started:
    """A reference target that runs (`server`) or the reason it does not (`skipped`)."""

    server: Server | None = None
    skipped: str = ""
    auth: str = "sk-mock"  # the bearer key its clients send
    ready_path: str = "/"


# nginx


def find_nginx() -> str | None:
    return shutil.which("nginx") or next((p for p in NGINX_CANDIDATES if os.access(p, os.X_OK)), None)


def nginx_conf(prefix: Path, port: int, upstream_port: int) -> str:
    """One worker (comparable to Clinx's one worker), keep-alive to the mock, streams passed through chunk by
    chunk (proxy_buffering off), no access log, every path nginx writes inside `prefix`."""
    # As root, nginx would switch its worker to `nobody`, which cannot enter the 0700 temporary directory.
    user = f"user {pwd.getpwuid(os.geteuid()).pw_name};\n" if os.geteuid() == 0 else ""
    return f"""{user}daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    upstream mock {{
        server 127.0.0.1:{upstream_port};
        keepalive 128;
        keepalive_requests 1000000;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://mock;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_buffering off;
            proxy_request_buffering off;
            proxy_read_timeout 120s;
        }}
    }}
}}
"""


def start_nginx(workdir: Path, port: int, mock_port: int) -> Started:
    binary = find_nginx()
    if binary is None:
        return Started(skipped="nginx is not installed (Debian package `nginx`)")
    prefix = workdir / "nginx"
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_conf(prefix, port, mock_port))
    # -e: the error log before the config is read would otherwise go to /var/log/nginx.
    argv = [binary, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")]
    return Started(start("nginx", argv, dict(os.environ), workdir, port), ready_path="/v1/models")


# LiteLLM


def litellm_binary(venv: Path) -> Path:
    return venv / "bin" / "litellm"


def ensure_litellm(venv: Path) -> str:
    """Install LiteLLM's proxy into its own virtualenv `venv` unless it is there; answers why not if that fails
    (no network, say). Its own venv keeps LiteLLM's many pinned dependencies out of the project's."""
    if litellm_binary(venv).exists():
        return ""
    print(f"… installing {LITELLM_REQUIREMENT} into {venv} (once; a few minutes)", file=sys.stderr, flush=True)
    log = venv.parent / ".litellm-install.log"
    try:
        with log.open("wb") as out:
            subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], stdout=out, stderr=out, check=True)
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check"]
            # Wheels only: no package's build code runs on this machine.
            subprocess.run(
                [*pip, "--only-binary=:all:", LITELLM_REQUIREMENT],
                stdout=out,
                stderr=out,
                check=True,
                timeout=LITELLM_INSTALL_SECONDS,
            )
    except (OSError, subprocess.SubprocessError) as exc:
        shutil.rmtree(venv, ignore_errors=True)
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-5:]) if log.exists() else ""
        return f"could not install {LITELLM_REQUIREMENT} into {venv}: {exc}\n{tail}"
    return ""


def litellm_config(mock_url: str, master_key: str) -> str:
    """The proxy's config.yaml (JSON is YAML): both benchmark models on the mock as an OpenAI-compatible
    provider, no database, no callbacks, spend and error logs off, quiet logging."""
    params = {"api_base": mock_url + "/v1", "api_key": "sk-mock"}
    config = {
        "model_list": [
            {"model_name": name, "litellm_params": {"model": f"openai/{name}", **params}}
            for name in ("gpt-4o-mini", "text-embedding-3-small")
        ],
        "litellm_settings": {
            "set_verbose": False,
            "json_logs": False,
            "callbacks": [],
            "success_callback": [],
            "failure_callback": [],
            "request_timeout": 600,
            "num_retries": 0,
        },
        "general_settings": {"master_key": master_key, "disable_spend_logs": True, "disable_error_logs": True},
    }
    return json.dumps(config, indent=2)


# uvicorn's access log off (one line per request costs CPU; Clinx runs without it too), warnings and errors kept.
UVICORN_LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "loggers": {
        "uvicorn": {"handlers": ["stderr"], "level": "WARNING", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


def litellm_env(home: Path) -> dict[str, str]:
    """A clean environment, not ours: nothing of this machine's (database URLs, keys) reaches a third-party
    process, and LiteLLM runs DB-less without fetching its model price map from the network."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LITELLM_LOG": "ERROR",
        "LITELLM_MODE": "PRODUCTION",
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "NO_DOCS": "True",
        "NO_REDOC": "True",
        "DISABLE_ADMIN_UI": "True",
    }


def start_litellm(venv: Path, workdir: Path, port: int, mock_url: str) -> Started:
    reason = ensure_litellm(venv)
    if reason:
        return Started(skipped=reason)
    home = workdir / "litellm"
    home.mkdir()
    master_key = "sk-" + secrets.token_hex(16)
    config = home / "config.yaml"
    config.write_text(litellm_config(mock_url, master_key))
    argv = [str(litellm_binary(venv)), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)]
    log_config = home / "uvicorn-log.json"
    log_config.write_text(json.dumps(UVICORN_LOG_CONFIG))
    argv += ["--num_workers", "1", "--telemetry", "False", "--log_config", str(log_config)]
    server = start("litellm", argv, litellm_env(home), workdir, port)
    return Started(server, auth=master_key, ready_path="/health/liveliness")

"""Static checks of the ClearML Server compose file and its example env file."""

import json
import re
from pathlib import Path

import pytest
import yaml

from .paths import ROOT, SHARED_DIR

COMPOSE_FILE = ROOT / "clearml" / "docker-compose.yml"
ENV_EXAMPLE = ROOT / "clearml" / ".env.example"
COMPOSE_SCHEMA = SHARED_DIR / "schemas" / "compose-spec.json"

REPORT_SERVICES = {
    "mongo",
    "elasticsearch",
    "redis",
    "apiserver",
    "webserver",
    "fileserver",
    "async_delete",
}
DATABASES = {"mongo", "elasticsearch", "redis"}
PUBLISHED = {"webserver": 8080, "apiserver": 8008, "fileserver": 8081}
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
REPORT_ACCESS_KEY = "hw5_local_access"
REPORT_SECRET_KEY = "hw5_local_secret"

# `$$` is a literal dollar; `${NAME...}` and `$NAME` are references
INTERPOLATION = re.compile(r"\$\$|\$\{([^}]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")
BRACED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])(.*))?", re.DOTALL)
SECRET_NAME = re.compile(r"secret|password|passwd|token|user_key|access_key|api_key", re.I)
ONLY_REFERENCE = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?[-?][^}]*)?\}")
# what generated keys and secrets look like: long runs mixing letters and digits
KEY_LIKE = re.compile(r"(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{24,}")


def read_env_file(path: Path) -> dict[str, str]:
    env = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep, f"{path.name}: not a NAME=value line: {raw!r}"
        env[name.strip()] = value.strip().strip("'\"")
    return env


def interpolate(text: str, env: dict[str, str]) -> str:
    """Resolve compose-style references in one string, the way `docker compose` does."""

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group(2):
            return env.get(match.group(2), "")
        name, operator, argument = BRACED.fullmatch(match.group(1)).groups()
        value = env.get(name)
        if operator == ":-":
            return value if value else interpolate(argument, env)
        if operator == "-":
            return value if value is not None else interpolate(argument, env)
        if operator in (":?", "?") and (value is None or (operator == ":?" and not value)):
            raise KeyError(f"{name} is required: {argument}")
        return value or ""

    return INTERPOLATION.sub(replace, text)


def resolve(node, env: dict[str, str]):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [resolve(item, env) for item in node]
    if isinstance(node, dict):
        return {key: resolve(value, env) for key, value in node.items()}
    return node


def string_values(node) -> list[str]:
    """Every string value in a parsed YAML document (mapping keys excluded)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [text for item in node for text in string_values(item)]
    if isinstance(node, dict):
        return [text for value in node.values() for text in string_values(value)]
    return []


def referenced_variables(text: str) -> set[str]:
    names = set()
    for match in INTERPOLATION.finditer(text):
        if match.group(2):
            names.add(match.group(2))
        elif match.group(1) is not None:
            names.add(BRACED.fullmatch(match.group(1)).group(1))
            names |= referenced_variables(BRACED.fullmatch(match.group(1)).group(3) or "")
    return names


def environment_of(service: dict) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        return dict(item.partition("=")[::2] for item in environment)
    return {name: "" if value is None else str(value) for name, value in environment.items()}


def host_ip_of(port) -> tuple[str, int]:
    """Host address and published port of one `ports` entry (short or long syntax)."""
    if isinstance(port, dict):
        return str(port.get("host_ip", "")), int(port["published"])
    address = str(port).rpartition(":")[0]
    host_ip, _, published = address.rpartition(":")
    assert published, f"port {port!r} publishes a random host port"
    return host_ip.strip("[]"), int(published)


@pytest.fixture(scope="module")
def compose_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def compose(compose_text) -> dict:
    return yaml.safe_load(compose_text)


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def resolved(compose, env_example) -> dict:
    return resolve(compose, env_example)


def test_compose_file_validates_against_compose_spec(compose, resolved):
    if not COMPOSE_SCHEMA.is_file():
        pytest.skip(f"compose specification schema not available at {COMPOSE_SCHEMA}")
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(COMPOSE_SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)

    for label, document in (("as written", compose), ("interpolated", resolved)):
        errors = [
            f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
            for error in validator.iter_errors(document)
        ]
        assert errors == [], f"compose file {label} breaks the compose specification"


def test_every_service_of_the_report_is_present(compose):
    assert set(compose["services"]) >= REPORT_SERVICES


def test_published_ports_are_bound_to_loopback_by_default(compose, env_example):
    without_bind_address = {k: v for k, v in env_example.items() if k != "CLEARML_BIND_ADDRESS"}
    for env in (env_example, without_bind_address):
        services = resolve(compose, env)["services"]
        published = {}
        for name, service in services.items():
            for port in service.get("ports", []):
                host_ip, host_port = host_ip_of(port)
                assert host_ip in LOOPBACK, f"{name} publishes {port!r} beyond loopback"
                published[name] = host_port
        assert published == PUBLISHED


def test_bind_address_variable_exposes_every_published_port(compose, env_example):
    services = resolve(compose, env_example | {"CLEARML_BIND_ADDRESS": "0.0.0.0"})["services"]

    addresses = {
        host_ip_of(port)[0] for service in services.values() for port in service.get("ports", [])
    }

    assert addresses == {"0.0.0.0"}


def test_databases_are_only_on_internal_networks(compose):
    networks = compose.get("networks") or {}
    for name in DATABASES:
        service = compose["services"][name]
        assert "ports" not in service, f"{name} publishes a port"
        attached = service.get("networks")
        assert attached, f"{name} is on the default network, which is not internal"
        for network in attached:
            assert (networks.get(network) or {}).get("internal") is True, (
                f"{name} is attached to the non-internal network {network}"
            )


def test_no_secret_is_written_literally(compose, compose_text, env_example):
    for name, service in compose["services"].items():
        for variable, value in environment_of(service).items():
            if SECRET_NAME.search(variable):
                assert ONLY_REFERENCE.fullmatch(value), (
                    f"{name}: {variable} must be a ${{...}} reference, not a literal"
                )

    secrets = {value for key, value in env_example.items() if SECRET_NAME.search(key)}
    assert {REPORT_ACCESS_KEY, REPORT_SECRET_KEY} <= secrets
    for secret in secrets:
        assert secret not in compose_text, "a value of the env file is written in the compose file"
    literals = [value for value in string_values(compose) if "$" not in value]
    assert [value for value in literals if KEY_LIKE.search(value)] == []


def test_every_variable_used_is_defined_in_env_example(compose_text, env_example):
    used = referenced_variables(compose_text)

    assert {"CLEARML_BIND_ADDRESS", "CLEARML_LOCAL_ACCESS_KEY"} <= used
    assert used - set(env_example) == set()


def test_env_example_holds_the_report_keys_and_hosts(env_example):
    assert env_example["CLEARML_LOCAL_ACCESS_KEY"] == REPORT_ACCESS_KEY
    assert env_example["CLEARML_LOCAL_SECRET_KEY"] == REPORT_SECRET_KEY
    assert env_example["CLEARML_BIND_ADDRESS"] in LOOPBACK
    assert env_example["CLEARML_API_HOST"] == "http://localhost:8008"
    assert env_example["CLEARML_WEB_HOST"] == "http://localhost:8080"
    assert env_example["CLEARML_FILES_HOST"] == "http://localhost:8081"
    assert "loopback" in ENV_EXAMPLE.read_text(encoding="utf-8").lower()


def test_report_exports_match_env_example(env_example):
    report = SHARED_DIR / "seed" / "hw5_clearml_report.md"
    if not report.is_file():
        pytest.skip(f"the user's report is not available at {report}")

    exported = dict(re.findall(r'export (CLEARML_\w+)="([^"]*)"', report.read_text("utf-8")))

    assert exported["CLEARML_API_ACCESS_KEY"] == env_example["CLEARML_LOCAL_ACCESS_KEY"]
    assert exported["CLEARML_API_SECRET_KEY"] == env_example["CLEARML_LOCAL_SECRET_KEY"]
    for host in ("CLEARML_API_HOST", "CLEARML_WEB_HOST", "CLEARML_FILES_HOST"):
        assert exported[host] == env_example[host]


def test_the_server_receives_the_local_credentials(resolved, env_example):
    environment = environment_of(resolved["services"]["apiserver"])
    prefix = "CLEARML__secure__credentials__"
    users = {
        name[len(prefix) :].rpartition("__")[0]
        for name in environment
        if name.startswith(prefix) and name.endswith("__user_key")
    }

    pairs = {
        (environment[f"{prefix}{user}__user_key"], environment[f"{prefix}{user}__user_secret"])
        for user in users
    }

    assert (REPORT_ACCESS_KEY, REPORT_SECRET_KEY) in pairs
    assert all(environment[f"{prefix}{user}__role"] for user in users)


def test_images_are_pinned(resolved):
    server_tags = set()
    for name, service in resolved["services"].items():
        image = service.get("image", "")
        repository, _, tag = image.rpartition(":")
        assert repository and "/" not in tag, f"{name}: image {image!r} has no tag"
        assert tag != "latest", f"{name}: image {image!r} is not pinned"
        assert re.fullmatch(r"\d+\.\d+\.\d+", tag), f"{name}: {tag!r} is not a release tag"
        if repository.endswith("/server"):
            server_tags.add(tag)
    assert len(server_tags) == 1, f"ClearML services run different releases: {server_tags}"


def test_services_with_dependants_have_healthchecks(compose):
    services = compose["services"]
    depended_on = set()
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on has no conditions"
        for dependency, settings in depends_on.items():
            assert settings.get("condition") == "service_healthy", (
                f"{name} starts before {dependency} is healthy"
            )
            depended_on.add(dependency)

    assert DATABASES | {"apiserver", "fileserver"} <= depended_on
    for name in depended_on:
        healthcheck = services[name].get("healthcheck") or {}
        assert not healthcheck.get("disable"), f"{name}: healthcheck disabled"
        assert healthcheck.get("test") not in (None, ["NONE"]), f"{name} has no healthcheck"


def test_services_restart_and_keep_data_in_the_project_folder(compose):
    for name, service in compose["services"].items():
        assert service.get("restart") in ("unless-stopped", "always"), f"{name}: no restart"
        for volume in service.get("volumes", []):
            source = volume["source"] if isinstance(volume, dict) else volume.split(":")[0]
            assert source.startswith("./.clearml-server/"), f"{name}: {volume!r} outside"

"""The offline plan of the prod stack lists every resource and leaks no secret."""

from conftest import PROD_STACK

from tools import plan

EXPECTED = [
    "+ hcloud:index/server:Server  n8n-prod-server",
    "+ hcloud:index/volume:Volume  n8n-prod-data",
    "+ hcloud:index/firewall:Firewall  n8n-prod-edge",
    "+ hcloud:index/sshKey:SshKey  n8n-prod-admin",
    "+ docker:index/container:Container  caddy",
    "+ docker:index/container:Container  postgres",
    "+ docker:index/container:Container  redis",
    "+ docker:index/container:Container  n8n-main",
    "+ docker:index/container:Container  n8n-worker-1",
    "+ docker:index/container:Container  n8n-worker-2",
    "+ docker:index/container:Container  n8n-runner-main",
    "+ docker:index/container:Container  n8n-runner-worker-1",
    "+ docker:index/container:Container  n8n-runner-worker-2",
    "+ docker:index/container:Container  webhook-gateway",
]


def run_plan(out, capsys) -> str:
    assert plan.main([str(PROD_STACK), "--out", str(out)]) == 0
    return capsys.readouterr().out


def test_plan_lists_every_resource(tmp_path, capsys):
    output = run_plan(tmp_path, capsys)

    for line in EXPECTED:
        assert line in output


def test_plan_shows_gateway_routes_in_caddyfile(tmp_path, capsys):
    run_plan(tmp_path, capsys)
    caddyfile = (tmp_path / "etc/hardened-n8n/Caddyfile").read_text()

    assert "/hooks/flutterwave" in caddyfile
    assert "webhook-gateway:8080" in caddyfile


def test_plan_masks_every_secret(tmp_path, capsys, prod_recording):
    output = run_plan(tmp_path, capsys)
    written = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())

    assert "DB_POSTGRESDB_PASSWORD=[secret]" in output
    for secret in prod_recording.secret_values:
        assert secret not in output
        assert secret not in written


def test_plan_is_stable(tmp_path, capsys):
    first = run_plan(tmp_path / "a", capsys)
    second = run_plan(tmp_path / "b", capsys)

    assert first.replace(str(tmp_path / "a"), "") == second.replace(str(tmp_path / "b"), "")

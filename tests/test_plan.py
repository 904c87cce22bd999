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


def test_plan_masks_host_key_in_user_data(tmp_path, capsys):
    run_plan(tmp_path, capsys)
    (user_data,) = (tmp_path / "cloud-init").glob("*.yaml")
    text = user_data.read_text()

    assert "ed25519_private: |" in text
    assert "OPENSSH PRIVATE KEY" not in text
    assert "[secret]" in text


def test_malformed_stack_file_rejected_cleanly(tmp_path, capsys):
    for index, body in enumerate(["config: [1, 2]\n", "- a\n- b\n", "config:\n  a: [\n"]):
        stack_file = tmp_path / f"Pulumi.bad{index}.yaml"
        stack_file.write_text(body)

        assert plan.main([str(stack_file), "--out", str(tmp_path / "out")]) == 2
        error = capsys.readouterr().err
        assert error.startswith(f"error: cannot read {stack_file}")
        assert "Traceback" not in error


def test_stack_name_from_file_name():
    assert plan.stack_name(PROD_STACK) == "prod"
    assert plan.stack_name(PROD_STACK.with_name("Pulumi.eu.staging.yaml")) == "eu.staging"
    assert plan.stack_name(PROD_STACK.with_name("stack.yaml")) == "prod"


def test_odd_values_give_settings_errors(tmp_path, capsys):
    prod = PROD_STACK.read_text()
    cases = {
        "routes-text": prod.replace(
            "hardened-n8n:webhookRoutes:", "hardened-n8n:webhookRoutes: x\n  unused:"
        ),
        "route-name-list": prod.replace("- name: flutterwave", "- name: [a]"),
        "date": prod.replace("hardened-n8n:volumeSize: 40", "hardened-n8n:volumeSize: 2020-01-01"),
    }
    for name, body in cases.items():
        stack_file = tmp_path / f"Pulumi.{name}.yaml"
        stack_file.write_text(body)

        status = plan.main([str(stack_file), "--out", str(tmp_path / name)])
        error = capsys.readouterr().err

        assert status == 1, name
        assert "stack setting" in error, name
        assert "Traceback" not in error, name

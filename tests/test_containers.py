"""Container wiring that the policy rules do not cover: networks as the plan lists them."""

from components import services


def _containers(recording):
    return {c.name: c for c in recording.of_type("docker:index/container:Container")}


def test_first_network_not_joined_twice(prod_recording):
    # The provider connects every networksAdvanced entry after creating the container on its
    # networkMode network, and Docker rejects a second connection to the same network.
    for container in _containers(prod_recording).values():
        joined = [n["name"] for n in container.inputs.get("networksAdvanced", [])]

        assert container.inputs["networkMode"] not in joined, container.urn
        assert len(joined) == len(set(joined)), container.urn


def test_containers_join_planned_networks(prod_recording):
    plans = services.plan_services("2.41.3", worker_count=2, with_gateway=True)
    containers = _containers(prod_recording)

    assert sorted(containers) == sorted(plan.name for plan in plans)
    for plan in plans:
        container = containers[plan.name]
        joined = [container.inputs["networkMode"]]
        joined += [n["name"] for n in container.inputs.get("networksAdvanced", [])]

        assert joined == [f"hn8n-{network}" for network in plan.networks], plan.name


def test_runners_reach_only_their_network(prod_recording):
    for name, container in _containers(prod_recording).items():
        if name.startswith("n8n-runner-"):
            assert container.inputs["networkMode"] == "hn8n-runners"
            assert "networksAdvanced" not in container.inputs

import pytest
from django.urls import reverse


@pytest.mark.parametrize("name", ["core:home", "members:list", "catalog:list", "catalog:matrix", "governance:index"])
def test_it_serves_main_pages_to_operator_staff(client, world, name):
    client.force_login(world.staff)
    assert client.get(reverse(name)).status_code == 200

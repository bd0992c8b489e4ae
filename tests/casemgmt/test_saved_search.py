from django.urls import reverse

from casemgmt.models import SavedSearch


def test_save_use_and_delete_a_search(client, demo, case):
    client.force_login(demo["caseworker"])
    response = client.post(
        reverse("saved-search-create"), {"name": "Fes actives", "querystring": "stage=active&city=FES"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?stage=active&city=FES")
    saved = SavedSearch.objects.get(user=demo["caseworker"])
    page = client.get(reverse("case-list"), {"stage": "active"})
    assert "Fes actives" in page.content.decode()
    # another user neither sees nor deletes it
    client.force_login(demo["colleague"])
    assert "Fes actives" not in client.get(reverse("case-list")).content.decode()
    assert client.post(reverse("saved-search-delete", args=[saved.pk])).status_code == 404
    client.force_login(demo["caseworker"])
    client.post(reverse("saved-search-delete", args=[saved.pk]))
    assert not SavedSearch.objects.exists()


def test_a_search_needs_a_name(client, demo):
    client.force_login(demo["caseworker"])
    client.post(reverse("saved-search-create"), {"name": " ", "querystring": "stage=active"})
    assert not SavedSearch.objects.exists()

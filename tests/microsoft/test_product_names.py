from opkalla_portal.microsoft.product_names import friendly_name, matches, search_aliases, service_plans


def test_friendly_names_by_part_number_or_guid():
    assert friendly_name("SPB") == "Microsoft 365 Business Premium"
    assert friendly_name("cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46") == "Microsoft 365 Business Premium"
    assert friendly_name("Microsoft_365_Copilot") == "Microsoft 365 Copilot"
    assert friendly_name("SOMETHING_NEW") == "SOMETHING_NEW"
    assert any(p["servicePlanName"] == "EXCHANGE_S_STANDARD" for p in service_plans("SPB"))


def test_every_demo_sku_and_documented_product_is_named():
    from opkalla_portal.demo import demo_data

    for sub in demo_data.SUBSCRIPTIONS:
        if sub.sku_part_number:
            assert friendly_name(sub.sku_part_number) != sub.sku_part_number
            assert friendly_name(sub.graph_sku_id) != sub.graph_sku_id
    for part in (
        "O365_BUSINESS_ESSENTIALS",
        "O365_BUSINESS_PREMIUM",
        "O365_BUSINESS",
        "SPE_E3",
        "SPE_E5",
        "SPE_F1",
        "STANDARDPACK",
        "ENTERPRISEPACK",
        "ENTERPRISEPREMIUM",
        "EXCHANGESTANDARD",
        "EXCHANGEENTERPRISE",
        "AAD_PREMIUM",
        "AAD_PREMIUM_P2",
        "MCOMEETADV",
    ):
        assert friendly_name(part) != part


def test_aliases_find_products_under_other_names():
    assert search_aliases("Microsoft 365 Business")[1] == "Microsoft 365 Business Premium"
    assert matches("Microsoft 365 Business", "Microsoft 365 Business Premium")
    assert matches("Office 365 Business Premium", "Microsoft 365 Business Standard")
    assert matches("azure ad premium p1", "Microsoft Entra ID P1")
    assert not matches("visio", "Microsoft 365 E3")

"""Reconciliation v2 line item fields as Microsoft documents them (PascalCase there).

Sources:
- Billed/unbilled daily rated usage v2: Microsoft's own sample
  microsoft/Partner-Center-Billing-Recon-Samples, MSGraphSample/Models/BilledUsage.cs (the
  model its Graph export client deserializes blobs into), plus the field table of the Partner
  Center docs page "Billed and unbilled daily rated usage reconciliation API v2" (adds
  Tier2MpnId, PartnerEarnedCreditPercentage, CreditPercentage).
- Billed invoice reconciliation (license-based / one-time line items): Partner Center SDK docs,
  invoice resources, OneTimeInvoiceLineItem (MicrosoftDocs/partner-center-sdk), and the
  reconciliation file fields page of the Partner Center docs (MicrosoftDocs/partner-center-pr).

Not verifiable here: the blob's exact key casing (the sample deserializes case-insensitively),
and whether v2 adds invoice line fields beyond OneTimeInvoiceLineItem (see docs/microsoft.md).
"""

from __future__ import annotations

BILLED_USAGE = {
    "PartnerId",
    "PartnerName",
    "CustomerId",
    "CustomerName",
    "CustomerDomainName",
    "CustomerCountry",
    "MpnId",
    "Tier2MpnId",
    "InvoiceNumber",
    "ProductId",
    "SkuId",
    "AvailabilityId",
    "SkuName",
    "ProductName",
    "PublisherName",
    "PublisherId",
    "SubscriptionDescription",
    "SubscriptionId",
    "ChargeStartDate",
    "ChargeEndDate",
    "UsageDate",
    "MeterType",
    "MeterCategory",
    "MeterId",
    "MeterSubCategory",
    "MeterName",
    "MeterRegion",
    "Unit",
    "ResourceLocation",
    "ConsumedService",
    "ResourceGroup",
    "ResourceURI",
    "ChargeType",
    "UnitPrice",
    "Quantity",
    "UnitType",
    "BillingPreTaxTotal",
    "BillingCurrency",
    "PricingPreTaxTotal",
    "PricingCurrency",
    "ServiceInfo1",
    "ServiceInfo2",
    "Tags",
    "AdditionalInfo",
    "EffectiveUnitPrice",
    "PCToBCExchangeRate",
    "PCToBCExchangeRateDate",
    "EntitlementId",
    "EntitlementDescription",
    "PartnerEarnedCreditPercentage",
    "CreditPercentage",
    "CreditType",
    "BenefitOrderId",
    "BenefitId",
    "BenefitType",
}

BILLED_INVOICE_LINE = {
    "PartnerId",
    "CustomerId",
    "CustomerName",
    "CustomerDomainName",
    "CustomerCountry",
    "InvoiceNumber",
    "MpnId",
    "ResellerMpnId",
    "OrderId",
    "OrderDate",
    "ProductId",
    "SkuId",
    "AvailabilityId",
    "ProductName",
    "SkuName",
    "ChargeType",
    "UnitPrice",
    "EffectiveUnitPrice",
    "UnitType",
    "Quantity",
    "Subtotal",
    "TaxTotal",
    "TotalForCustomer",
    "Currency",
    "PublisherName",
    "PublisherId",
    "SubscriptionDescription",
    "SubscriptionId",
    "ChargeStartDate",
    "ChargeEndDate",
    "TermAndBillingCycle",
    "AlternateId",
    "PriceAdjustmentDescription",
    "CreditReasonCode",
    "DiscountDetails",
    "PricingCurrency",
    "PCToBCExchangeRate",
    "PCToBCExchangeRateDate",
    "BillableQuantity",
    "MeterDescription",
    "ReservationOrderId",
    "BillingFrequency",
    "InvoiceLineItemType",
    "BillingProvider",
}


def undocumented(row: dict, documented: set[str]) -> list[str]:
    """Keys of a row that are not documented fields (compared case-insensitively)."""
    known = {name.lower() for name in documented}
    return sorted(key for key in row if key.lower() not in known)

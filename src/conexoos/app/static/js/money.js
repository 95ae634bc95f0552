// Prices as a person types and reads them, in the currency's units ("12.50" EUR, "1250" JPY), and as the
// API keeps them, in minor units (1250 cents, 1250 yen): one copy for the Products page and the page layout.
(() => {
  "use strict";

  // How many decimals the currency has (2 for EUR, 0 for JPY); 2 for a code the browser does not know.
  function digits(currency) {
    try {
      return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
    } catch (error) {
      return 2;
    }
  }

  // "12.50 €" in the reader's locale.
  function money(product) {
    try {
      return new Intl.NumberFormat(undefined, { style: "currency", currency: product.currency })
        .format(product.price / 10 ** digits(product.currency));
    } catch (error) {
      return `${product.price} ${product.currency}`;
    }
  }

  // "12.50" or "12,5" in EUR -> 1250; refuses what the currency cannot hold rather than rounding it away.
  function toMinorUnits(text, currency) {
    const places = digits(currency);
    const match = /^(\d{1,9})(?:[.,](\d+))?$/.exec(String(text).trim());
    if (!match) throw new Error(places ? "Enter a price like 12.50 (or 12,50)." : "Enter a price like 1250.");
    const fraction = match[2] || "";
    if (fraction.length > places) {
      throw new Error(places ? `${currency} prices have at most ${places} decimals.` : `${currency} prices have no decimals.`);
    }
    return Number(match[1]) * 10 ** places + Number(fraction.padEnd(places, "0") || 0);
  }

  // 1250 EUR -> "12.50", for an input the person edits.
  function toDecimalText(price, currency) {
    const places = digits(currency);
    return (price / 10 ** places).toFixed(places);
  }

  window.conexoosMoney = { money, toMinorUnits, toDecimalText };
})();

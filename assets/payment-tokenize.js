// Card tokenization in the browser, as payment processors' own scripts do: the card number
// goes from the form straight to the processor; the portal's server only ever receives the
// token, brand, last four digits and expiry. Loaded with import() by the Payment Profiles page.

const FIELDS = {
  number: "card-number",
  expiry: "card-expiry",
  cvc: "card-cvc",
  holder_name: "card-holder",
};

function field(name) {
  return document.getElementById(FIELDS[name]);
}

export function luhnValid(digits) {
  if (!/^[0-9]{12,19}$/.test(digits)) return false;
  let total = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    total += d;
  }
  return total % 10 === 0;
}

function parseExpiry(text) {
  const match = /^\s*(\d{1,2})\s*\/\s*(\d{2}|\d{4})\s*$/.exec(text || "");
  if (!match) return null;
  const month = Number(match[1]);
  let year = Number(match[2]);
  if (year < 100) year += 2000;
  if (month < 1 || month > 12) return null;
  return { month, year };
}

function clearSecrets() {
  // The number and security code must not linger in the page once used.
  for (const name of ["number", "cvc"]) {
    const input = field(name);
    if (input) input.value = "";
  }
}

// Returns {ok: true, token, brand, last4, exp_month, exp_year, holder_name}
// or {ok: false, errors: {field: message}}; never the card number.
export async function tokenizeCard(endpoint) {
  const errors = {};
  const number = (field("number")?.value || "").replace(/[\s-]/g, "");
  const expiry = parseExpiry(field("expiry")?.value);
  const cvc = (field("cvc")?.value || "").trim();
  const holder = (field("holder_name")?.value || "").trim();
  if (!holder) errors.holder_name = "Enter the name on the card.";
  if (!number) errors.number = "Enter the card number.";
  else if (!luhnValid(number)) errors.number = "The card number is not valid.";
  if (!expiry) errors.expiry = "Enter the expiry as MM/YY.";
  else {
    const now = new Date();
    if (expiry.year * 12 + expiry.month < now.getFullYear() * 12 + now.getMonth() + 1) {
      errors.expiry = "This card has expired.";
    }
  }
  if (!/^[0-9]{3,4}$/.test(cvc)) errors.cvc = "Enter the security code from the card.";
  if (Object.keys(errors).length) return { ok: false, errors };

  let response;
  try {
    response = await fetch(endpoint, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ number, exp_month: expiry.month, exp_year: expiry.year, cvc, name: holder }),
      credentials: "omit",
      cache: "no-store",
    });
  } catch (error) {
    return { ok: false, errors: { form: "The payment processor could not be reached. Please try again." } };
  }
  let body = {};
  try {
    body = await response.json();
  } catch (error) {
    body = {};
  }
  if (!response.ok) {
    const problem = body.error || {};
    const key = ["number", "expiry", "cvc", "holder_name"].includes(problem.field) ? problem.field : "form";
    return { ok: false, errors: { [key]: problem.message || "The card was declined." } };
  }
  clearSecrets();
  return {
    ok: true,
    token: body.id,
    brand: body.card.brand,
    last4: body.card.last4,
    exp_month: body.card.exp_month,
    exp_year: body.card.exp_year,
    holder_name: holder,
  };
}

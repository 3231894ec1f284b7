"use strict";
// The customer form's "Copy billing address to shipping" button: each billing_address_* input's
// value goes to the shipping_address_* input of the same part.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-billing-to-shipping]");
  if (!button) {
    return;
  }
  const form = button.closest("form");
  for (const billing of form.querySelectorAll("[name^='billing_address_']")) {
    const part = billing.name.slice("billing_address_".length);
    const shipping = form.querySelector(`[name='shipping_address_${part}']`);
    if (shipping) {
      shipping.value = billing.value;
      shipping.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
});

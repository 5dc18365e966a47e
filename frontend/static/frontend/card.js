/* Card top-up with Stripe's Payment Element. The balance is credited only by the signed
   payment_intent.succeeded webhook, never by this page. */
document.addEventListener("DOMContentLoaded", function () {
  "use strict";
  var box = document.getElementById("card-payment");
  if (!box || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(box.getAttribute("data-publishable-key"));
  var elements = stripe.elements({clientSecret: box.getAttribute("data-client-secret")});
  elements.create("payment").mount("#payment-element");
  document.getElementById("card-pay").addEventListener("click", function () {
    stripe.confirmPayment({elements: elements, confirmParams: {return_url: window.location.href}}).then(function (result) {
      if (result.error) { document.getElementById("card-message").textContent = result.error.message; }
    });
  });
});

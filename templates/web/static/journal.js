// The transaction form's balance per currency, shown while one types. A convenience only:
// the server reads the postings again and the journal refuses an entry that does not balance.
(function () {
  "use strict";
  var form = document.getElementById("transaction-form");
  if (!form) return;
  var box = document.getElementById("balance");
  var list = document.getElementById("balance-list");

  function scaled(text) {
    // "1,250.50" -> [125050n, 2]: exact decimal arithmetic, never a float.
    var clean = text.replace(/[,\s]/g, "");
    var match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(clean);
    if (!match) return null;
    var decimals = (match[3] || "").length;
    var digits = BigInt(match[2] + (match[3] || ""));
    return [match[1] ? -digits : digits, decimals];
  }

  function show(total, decimals) {
    var negative = total < 0n;
    var text = (negative ? -total : total).toString().padStart(decimals + 1, "0");
    var whole = decimals ? text.slice(0, -decimals) : text;
    var part = decimals ? "." + text.slice(-decimals) : "";
    return (negative ? "-" : "") + whole + part;
  }

  function update() {
    var sums = {};
    form.querySelectorAll(".posting").forEach(function (row) {
      var amount = row.querySelector("input[name$='.amount']").value;
      var currency = row.querySelector("select[name$='.currency']").value;
      var parsed = scaled(amount);
      if (!amount || !parsed) return;
      var sum = sums[currency] || [0n, 0];
      var decimals = Math.max(sum[1], parsed[1]);
      var total = sum[0] * 10n ** BigInt(decimals - sum[1]) + parsed[0] * 10n ** BigInt(decimals - parsed[1]);
      sums[currency] = [total, decimals];
    });
    list.replaceChildren();
    Object.keys(sums).sort().forEach(function (currency) {
      var item = document.createElement("li");
      var zero = sums[currency][0] === 0n;
      item.dataset.currency = currency;
      item.className = zero ? "ok" : "error";
      item.textContent = currency + " " + show(sums[currency][0], sums[currency][1]) + " · " +
        (zero ? box.dataset.balanced : box.dataset.off);
      list.appendChild(item);
    });
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();

// The console's own script (no inline scripts: the CSP forbids them).
"use strict";

// Code picker: "Add" puts a code at the end of the decision's code list.
document.addEventListener("click", (event) => {
  const button = event.target.closest("button.add-code");
  if (!button) return;
  const box = document.getElementById("codes");
  if (!box) return;
  const codes = box.value.split(/[\s,;]+/).filter(Boolean);
  if (!codes.includes(button.dataset.code)) codes.push(button.dataset.code);
  box.value = codes.join(" ");
  box.dispatchEvent(new Event("input", { bubbles: true }));
  box.focus();
});

// Integer cents as dollars, as the server shows them (infra/money.py): 123456 -> "$1,234.56",
// -5 -> "-$0.05". Integer division and remainder on a BigInt, never a float; "" for what is not
// a whole number of cents.
function dollars(cents) {
  if (!Number.isInteger(cents)) return "";
  const c = BigInt(cents);
  const abs = c < 0n ? -c : c;
  const frac = String(abs % 100n).padStart(2, "0");
  return `${c < 0n ? "-" : ""}$${(abs / 100n).toLocaleString("en-US")}.${frac}`;
}

// KPI charts, from the data the server put in #charts (data-charts, JSON). Money series are
// integer cents: their axis ticks and tooltips show dollars; the values stay cents.
function drawCharts() {
  const holder = document.getElementById("charts");
  if (!holder || typeof Chart === "undefined") return;
  const data = JSON.parse(holder.dataset.charts);
  const palette = ["#0b5cad", "#e07b00", "#17693a", "#a4161a", "#6a3d9a", "#4d7f8c", "#b8860b"];
  const sets = (series) => Object.entries(series).map(([label, values], i) => (
    { label, data: values, backgroundColor: palette[i % palette.length], borderColor: palette[i % palette.length] }));
  // a new options object for each chart: Chart.js writes its resolved scales into the one it is
  // given, and a shared one would hand the line chart's axes to the horizontal bar chart
  const opts = () => ({ animation: false, responsive: true });
  const money = (stacked) => ({
    ...opts(),
    scales: { x: { stacked }, y: { stacked, ticks: { precision: 0, callback: (value) => dollars(value) } } },
    plugins: { tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${dollars(item.raw)}` } } },
  });
  new Chart(document.getElementById("chart-aging"), {
    type: "bar", data: { labels: data.aging.labels, datasets: sets(data.aging.series) }, options: money(false) });
  new Chart(document.getElementById("chart-payers"), {
    type: "bar", data: { labels: data.payers.labels, datasets: sets(data.payers.series) }, options: money(true) });
  new Chart(document.getElementById("chart-daily"), {
    type: "line", data: { labels: data.daily.labels, datasets: sets({
      "clean-claim rate": data.daily.clean, "denial rate": data.daily.denial }) },
    options: { ...opts(), scales: { y: { min: 0, max: 100, ticks: { callback: (value) => `${value}%` } } } } });
  new Chart(document.getElementById("chart-categories"), {
    type: "bar", data: { labels: data.categories.labels, datasets: sets({ denials: data.categories.counts }) },
    options: { ...opts(), indexAxis: "y", scales: { x: { ticks: { precision: 0 } } } } });
}
document.addEventListener("DOMContentLoaded", drawCharts);

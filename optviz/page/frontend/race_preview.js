// The race chart's preview of a slider's next notch ("optviz_race_preview"). A key press (or
// a drag) on the learning-rate or momentum slider waits for the server's rerun before the
// chart moves; the paths one notch either side were sent with the last run (see
// optviz/page/tabs/race.py race_previews: the same engine, the same figure builder), so the
// chart moves its paths to them the moment the slider's value changes, and the server's
// figure (the frames, the loss chart, the table) follows and is drawn over them. Shown only
// for a move the visitor made (the slider has the focus: a preset or a link that sets the
// slider is not this), on the figure the previews were made from, while the chart is not
// being drawn.

const MOVE = { transition: { duration: 0 }, frame: { duration: 0, redraw: false }, mode: "immediate" };
const interrupted = (err) => { if (err !== undefined) console.error("optviz preview:", err); };

function show(self, input) {
  const data = self.data;
  if (!data || input.type !== "range" || document.activeElement !== input) return;
  const slider = Object.keys(data.sliders).find((key) => input.closest(`.st-key-${key}`));
  const preview = slider && data.sliders[slider][input.value];
  const chart = (window.optvizCharts || {})[data.chart];
  const ready = () => preview && chart && chart.div && !chart.busy && !chart.next && chart.base === data.base
    && window.Plotly;
  if (!ready()) return;
  // Moved once the slider's new position is painted and its value sent (Streamlit sends it
  // after that paint): moved before, Plotly's work held both back, and the rerun with them.
  requestAnimationFrame(() => setTimeout(() => {
    if (!ready() || self.data !== data) return;
    for (const i of preview.traces) chart.previewed.add(i);
    // plotly.js rejects an animation that another one interrupts (Play, or the server's
    // figure landing) with no reason at all: an uncaught `undefined` on the page. The
    // newer animation wins; nothing is lost.
    window.Plotly.animate(chart.div, { data: preview.data, traces: preview.traces }, MOVE).catch(interrupted);
    chart.div.dataset.previews = ((chart.div.dataset.previews || "") + slider[0]).slice(-40);
  }, 0));
}

export default function ({ data: sent }) {
  // ONE watcher per page (Streamlit runs this again for each run's data, without the last
  // run's cleanup): a slider's <input type=range> holds its option's index in `value`,
  // which the slider sets as it moves.
  const self = (window.optvizPreviews ??= (() => {
    const self = { data: null };
    new MutationObserver((records) => { for (const record of records) show(self, record.target); })
      .observe(document.body, { attributes: true, attributeFilter: ["value"], subtree: true });
    return self;
  })());
  self.data = JSON.parse(new TextDecoder().decode(sent));
  return () => { self.data = null; };  // the element is gone (another tab): no previews
}

// The race and loss charts' own element ("optviz_race_chart", when plotly.js can be served;
// see optviz/page/charts.py live_chart). st.plotly_chart keys its element by the figure, so
// every slider move mounted a new chart that plotly.js drew from nothing. This one keeps ONE
// chart per page and moves the paths of the chart already drawn (Plotly.animate with no
// redraw, as Play does; the layout's changed parts by Plotly.relayout, the frames replaced).
// Anything else (another surface, language, step count): Plotly.react. A click on the chart
// and a box drawn with Box Select come back as the "select" trigger, shaped as
// st.plotly_chart's selection event.

const DATA_KEYS = new Set(["x", "y", "customdata", "text"]);  // figures.DATA_KEYS
const MOVE = { transition: { duration: 0 }, frame: { duration: 0, redraw: false }, mode: "immediate" };
// What a spec is made of, as text, taken before plotly.js sees it (it writes into what it draws).
const digest = (spec, config) => ({
  shape: spec.data.map((t) => JSON.stringify(Object.entries(t).filter(([k]) => !DATA_KEYS.has(k)))),
  full: spec.data.map((t) => JSON.stringify(t)),
  layout: Object.fromEntries(Object.entries(spec.layout).map(([k, v]) => [k, JSON.stringify(v)])),
  frames: (spec.frames || []).map((f) => f.name).join("|"),
  config: JSON.stringify(config),
});

async function draw(Plotly, chart, spec, config) {
  const div = chart.div, prev = chart.digest;
  chart.font ??= getComputedStyle(document.body).fontFamily;  // once: it forces a style recalculation
  spec.layout.font = { family: chart.font, ...(spec.layout.font || {}) };
  const now = digest(spec, config);
  // In place if only the traces' data, some of the layout and the frames changed (a slider
  // move, a step: the Steps slider and the step buttons make new frames).
  const inPlace = prev && div._fullLayout && prev.shape.length === now.shape.length
    && prev.config === now.config && now.shape.every((t, i) => t === prev.shape[i]);
  if (!inPlace) {
    await Plotly.react(div, { data: spec.data, layout: spec.layout, frames: spec.frames || [], config });
  } else {
    // (A trace a preview moved is drawn again too: the preview may not be this figure's.)
    const moved = now.full.map((t, i) => i).filter((i) => now.full[i] !== prev.full[i] || chart.previewed.has(i));
    const relaid = Object.keys({ ...prev.layout, ...now.layout }).filter((k) => prev.layout[k] !== now.layout[k]);
    if (moved.length) {
      // (Interrupted by Play or a preview, plotly.js rejects with no reason: not a failure to
      // draw, the newer animation shows. Any other error is one.)
      await Plotly.animate(div, { data: moved.map((i) => spec.data[i]), traces: moved }, MOVE).catch((err) => {
        if (err !== undefined) throw err;
      });
    }
    if (relaid.length) await Plotly.relayout(div, Object.fromEntries(relaid.map((k) => [k, spec.layout[k] ?? null])));
    if (prev.frames !== now.frames) {  // a step or the Steps slider: other frames; the old ones go
      // (one at a time from the end: plotly.js 7.1's deleteFrames sorts a list of indices as
      // text, so [9, 10] deletes 10 then 9 wrongly, and with no list it throws)
      const keep = new Set((spec.frames || []).map((f) => f.name)), frames = div._transitionData._frames;
      for (let i = frames.length - 1; i >= 0; i--) if (!keep.has(frames[i].name)) await Plotly.deleteFrames(div, [i]);
    }
    if (spec.frames && spec.frames.length) await Plotly.addFrames(div, spec.frames);  // same names: replaced
  }
  chart.digest = now;
  chart.previewed.clear();
  div.dataset.drawn = String((Number(div.dataset.drawn) || 0) + 1);
  div.dataset.updates = (div.dataset.updates || "").slice(-40) + (inPlace ? "a" : "r");  // a: in place, r: drawn anew
}

const charts = (window.optvizCharts ??= {});

async function drain(chart) {
  chart.busy = true;
  try {
    const Plotly = await window.optvizPlotly;
    while (chart.next) {
      const next = chart.next;
      chart.next = null;
      chart.base = null;
      await draw(Plotly, chart, next.spec, next.config);
      chart.base = next.base;  // what this figure's previews were made from (race_preview.js)
      if (!chart.events) {  // once: the chart's div is kept for the page's life
        chart.events = true;
        chart.div.on("plotly_animationinterrupted", () => { window.optvizInterruptedAt = performance.now(); });
        chart.div.on("plotly_click", (e) => {
          const p = e && e.points && e.points[0];
          if (p && chart.trigger) chart.trigger("select", { selection: { points: [{ x: p.x, y: p.y }], box: [] } });
        });
        // A frame of the race (Play, the scrubber) moves the fit view's models to the same step
        // (figures.fit_figure names its frames by step too).
        chart.div.on("plotly_animatingframe", (e) => {
          const fit = charts.fit_chart;
          const names = fit && fit.div && fit.div._transitionData ? fit.div._transitionData._frameHash : null;
          if (chart !== charts.race_chart || !names || !e || !(e.name in names)) return;
          window.optvizPlotly.then((Plotly) => Plotly.animate(fit.div, [e.name], MOVE));
        });
        chart.div.on("plotly_selected", (e) => {
          if (e && e.range && e.range.x && chart.trigger) {
            chart.trigger("select", { selection: { points: [], box: [{ x: e.range.x, y: e.range.y }] } });
          }
        });
      }
    }
  } catch (err) {
    console.error("optviz chart:", err);
    chart.div.textContent = "The chart could not be drawn: " + err;
  } finally {
    chart.busy = false;
  }
}

// plotly.js rejects the promise of an animation another one interrupts with no reason at all
// (a figure landing while Play runs; Play pressed while a figure or a preview moves), and its
// own Play button and step slider leave that promise unhandled: an uncaught `undefined` on
// the page, with nothing wrong. Only that rejection, right after an interruption, is quieted.
function quietInterruptions() {
  window.addEventListener("unhandledrejection", (event) => {
    if (event.reason === undefined && performance.now() - (window.optvizInterruptedAt ?? -Infinity) < 2000) {
      event.preventDefault();
    }
  });
  return true;
}

export default function ({ data: sent, parentElement, setTriggerValue }) {
  window.optvizQuiet ??= quietInterruptions();
  // One JSON text, sent as bytes (see charts.py chart_message): one parse, the figure's included.
  const data = JSON.parse(new TextDecoder().decode(sent));
  window.optvizPlotly ??= new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = data.src;
    script.onload = () => (window.Plotly ? resolve(window.Plotly) : reject(new Error("no Plotly in " + data.src)));
    script.onerror = () => reject(new Error("plotly.js did not load from " + data.src));
    document.head.appendChild(script);
  });
  const chart = (charts[data.key] ??= { div: null, digest: null, next: null, busy: false, events: false, base: null,
                                        previewed: new Set() });
  if (!chart.div) {
    chart.div = document.createElement("div");
    // As wide as its place on the page, whatever moves it (a window, the sidebar, presenter mode).
    // (Not while the chart is hidden or off the page, e.g. another tab is open: plotly.js
    // rejects that resize, uncaught. A resize that still fails is no reason to stop.)
    chart.sizes = new ResizeObserver(() => {
      if (window.Plotly && chart.div._fullLayout && chart.div.offsetParent !== null) {
        window.Plotly.Plots.resize(chart.div).catch((err) => console.warn("optviz chart resize:", err));
      }
    });
  }
  if (chart.div.parentElement !== parentElement) {  // a remounted element: the drawn chart moves in
    parentElement.appendChild(chart.div);
    chart.sizes.disconnect();
    chart.sizes.observe(parentElement);
  }
  chart.trigger = setTriggerValue;
  chart.next = data;  // the newest figure wins; one draw at a time
  if (!chart.busy) drain(chart);
  return () => { chart.trigger = null; };
}

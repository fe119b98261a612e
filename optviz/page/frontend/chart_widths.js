// The charts' widths, measured in the browser (the page's "optviz_chart_widths" element: a
// script, nothing drawn). Streamlit mounts a new chart element for every rerun's figure and
// keeps it hidden until it has measured its container and drawn the figure a second time at
// that width: a blank where the chart was on every slider move, and each chart drawn twice.
// A figure that says its width is shown at its first draw. This measures each chart's frame
// as Streamlit does and reports the widths when they change (first visit, a resized window,
// the sidebar folded): one rerun of the page's live part then. It skips a chart shown full
// screen (its frame is the whole window then, and the rerun would close it).

export default function ({ data, setStateValue, parentElement }) {
  // Streamlit runs this function again whenever `data` changes, without the cleanup the last
  // run returned (it calls only the newest one's, when the element goes): so ONE watcher per
  // page, kept on `window`, which each run hands its data and its setter.
  const w = (window.optvizChartWidths ??= (() => {
    const self = { data: null, report: null, known: {}, timer: null, keyOf: new WeakMap() };
    // A ResizeObserver says a frame's size once the browser has laid it out (no forced
    // layout): when it is first watched, and whenever it changes.
    self.sizes = new ResizeObserver((entries) => {
      let changed = false;
      for (const { target } of entries) {
        if (!target.isConnected) { self.sizes.unobserve(target); continue; }  // a rerun's old chart
        const key = self.keyOf.get(target) + self.data.layout;
        if (getComputedStyle(target).position === "fixed") continue;  // full screen
        const width = target.getBoundingClientRect().width;  // as Streamlit measures it
        if (width >= 10 && self.known[key] !== width) { self.known[key] = width; changed = true; }
      }
      if (changed) {  // one report (one rerun) for a burst of changes, e.g. a window dragged wider
        clearTimeout(self.timer);
        self.timer = setTimeout(() => self.report && self.report("widths", { ...self.known }), 150);
      }
    });
    self.watch = (again) => {
      for (const key of self.data ? self.data.keys : []) {
        const frame = document.querySelector(`.st-key-${key} [data-testid="stFullScreenFrame"]`);
        if (!frame || (self.keyOf.has(frame) && !again)) continue;
        self.keyOf.set(frame, key);
        self.sizes.unobserve(frame);
        self.sizes.observe(frame);  // (observing again: measured again)
      }
    };
    // Each rerun mounts new charts: watch them as they come (elements added, not attributes).
    new MutationObserver(() => self.watch(false)).observe(document.body, { childList: true, subtree: true });
    return self;
  })());
  w.data = data;
  w.report = setStateValue;
  w.known = { ...(data.known || {}) };  // what the server has: measure against it again
  parentElement.dataset.known = Object.keys(w.known).join(" ");  // what this run's figures were sized by
  w.watch(true);
  return () => { w.report = null; };  // the element is gone: report nothing more
}

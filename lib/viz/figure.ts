// The Figure: a plotly.js figure ({data, layout}) plus a text summary, and the shared layout template.
// Reference: plotly.js figure reference, https://plotly.com/javascript/reference/

/** One plotly.js trace (`type` names the trace kind; other keys follow the plotly.js reference). */
export interface PlotlyTrace {
  type: string;
  [key: string]: unknown;
}

/** A plotly.js axis (the keys this library sets; any other plotly key is allowed). */
export interface PlotlyAxis {
  title?: { text: string };
  type?: "linear" | "log" | "category";
  autorange?: boolean | "reversed";
  gridcolor?: string;
  zeroline?: boolean;
  automargin?: boolean;
  [key: string]: unknown;
}

/** A plotly.js layout (the keys this library sets; any other plotly key is allowed). */
export interface Layout {
  title: { text: string; font?: { size: number } };
  width: number;
  height: number;
  font: { family: string; size: number; color: string };
  paper_bgcolor: string;
  plot_bgcolor: string;
  colorway: string[];
  margin: { l: number; r: number; t: number; b: number };
  xaxis: PlotlyAxis;
  yaxis: PlotlyAxis;
  showlegend: boolean;
  legend: Record<string, unknown>;
  barmode: "group" | "stack" | "relative" | "overlay";
  polar: Record<string, unknown>;
  [key: string]: unknown;
}

/** A figure: what plotly draws, plus a readable text rendering kept beside it (never sent to plotly). */
export interface Figure {
  data: PlotlyTrace[];
  layout: Partial<Layout>;
  summary: string;
}

/** Options every builder accepts. */
export interface FigureOptions {
  /** Title drawn above the plot and first line of the summary (default: none). */
  title?: string;
  /** Width in CSS pixels, also the PNG width (default: `DEFAULT_STYLE.width`, 720). */
  width?: number;
  /** Height in CSS pixels, also the PNG height (default: `DEFAULT_STYLE.height`, 420). */
  height?: number;
}

/** Options of builders with a cartesian x/y plot. */
export interface AxisOptions extends FigureOptions {
  /** Title of the x axis (default: none). */
  xTitle?: string;
  /** Title of the y axis (default: none). */
  yTitle?: string;
}

/** The template shared by every figure. */
export interface FigureStyle {
  /** Default figure width in CSS pixels. */
  width: number;
  /** Default figure height in CSS pixels. */
  height: number;
  /** Font family list (DejaVu Sans is what Debian's chromium finds). */
  fontFamily: string;
  /** Base font size in pixels. */
  fontSize: number;
  /** Title font size in pixels. */
  titleSize: number;
  /** Text color. */
  fontColor: string;
  /** Page and plot-area background. */
  background: string;
  /** Grid line color. */
  gridColor: string;
  /** Colors given to series in order. */
  colorway: readonly string[];
  /** Margins in pixels around the plot area (top grows when there is a title). */
  margin: Readonly<{ l: number; r: number; t: number; b: number }>;
}

/** The default template: white background, readable sans-serif, 720×420. */
export const DEFAULT_STYLE: Readonly<FigureStyle> = Object.freeze({
  width: 720,
  height: 420,
  fontFamily: "DejaVu Sans, Helvetica, Arial, sans-serif",
  fontSize: 13,
  titleSize: 17,
  fontColor: "#222222",
  background: "#ffffff",
  gridColor: "#e6e6e6",
  colorway: Object.freeze([
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
  ]),
  margin: Object.freeze({ l: 64, r: 24, t: 32, b: 56 }),
});

/** The layout every builder starts from: template, size and title. Builders add axes and trace-specific keys. */
export function baseLayout(opts: FigureOptions, defaults: { width?: number; height?: number } = {}): Partial<Layout> {
  const s = DEFAULT_STYLE;
  const layout: Partial<Layout> = {
    width: opts.width ?? defaults.width ?? s.width,
    height: opts.height ?? defaults.height ?? s.height,
    font: { family: s.fontFamily, size: s.fontSize, color: s.fontColor },
    paper_bgcolor: s.background,
    plot_bgcolor: s.background,
    colorway: [...s.colorway],
    margin: { ...s.margin, t: opts.title ? s.margin.t + s.titleSize + 16 : s.margin.t },
  };
  if (opts.title) layout.title = { text: opts.title, font: { size: s.titleSize } };
  return layout;
}

/** A cartesian axis with the template's grid and an optional title. */
export function axis(title: string | undefined, extra: PlotlyAxis = {}): PlotlyAxis {
  const a: PlotlyAxis = { gridcolor: DEFAULT_STYLE.gridColor, zeroline: false, automargin: true, ...extra };
  if (title) a.title = { text: title };
  return a;
}

/** Joins a title line (when present) and the body of a summary. */
export function withTitle(title: string | undefined, body: string[]): string {
  return (title ? [title, ...body] : body).join("\n");
}

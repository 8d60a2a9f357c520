#include "eval/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "base/html_escape.h"

namespace foundry::eval {
namespace {

std::string Fixed(double v, int digits) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

// A number for an axis or a tick: as short as its size allows.
std::string Short(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e9) return Fixed(v, 0);
  return Fixed(v, std::fabs(v) >= 10 ? 1 : 2);
}

std::string Attr(const char* name, int v) {
  return std::string(" ") + name + "=\"" + std::to_string(v) + "\"";
}

std::string Text(int x, int y, const std::string& text, const std::string& extra = "") {
  return "<text" + Attr("x", x) + Attr("y", y) + extra + ">" + HtmlEscape(text) + "</text>";
}

std::string SvgOpen(const std::string& title, int width, int height) {
  return "<svg role=\"img\" aria-label=\"" + HtmlEscape(title) + "\" width=\"" +
         std::to_string(width) + "\" height=\"" + std::to_string(height) +
         "\" xmlns=\"http://www.w3.org/2000/svg\">" + Text(0, 18, title, " font-weight=\"bold\"");
}

constexpr const char* kColours[] = {"#2f6fb3", "#d9822b", "#3c9a5f", "#b83b5e",
                                    "#7a5cb8", "#8c6d1f", "#2a9d9d", "#555555"};

}  // namespace

SvgChart BarChart(const std::string& title, const std::string& unit,
                  const std::vector<ChartBar>& bars, double max_value) {
  const int label_w = 220, bar_w = 360, row_h = 26, top = 30;
  double top_value = max_value;
  for (const auto& b : bars) top_value = std::max(top_value, b.value);
  if (top_value <= 0) top_value = 1;
  SvgChart chart;
  chart.width = label_w + bar_w + 90;
  chart.height = top + row_h * static_cast<int>(bars.size()) + 10;
  std::string& svg = chart.markup;
  svg = SvgOpen(title, chart.width, chart.height);
  for (size_t i = 0; i < bars.size(); ++i) {
    const int y = top + row_h * static_cast<int>(i);
    const int w = static_cast<int>(bar_w * std::max(0.0, bars[i].value) / top_value);
    svg += Text(0, y + 16, bars[i].label);
    svg += "<rect" + Attr("x", label_w) + Attr("y", y + 3) + Attr("width", w) +
           " height=\"18\" fill=\"#2f6fb3\"/>";
    svg += Text(label_w + w + 6, y + 16, Fixed(bars[i].value, 2) + " " + unit);
  }
  svg += "</svg>";
  return chart;
}

SvgChart LineChart(const std::string& title, const std::string& x_label, const std::string& y_label,
                   const std::vector<ChartSeries>& series) {
  const int left = 60, top = 40, plot_w = 420, plot_h = 220, legend_w = 280, bottom = 50;
  std::set<double> xs;
  double y_max = 0;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) {
      xs.insert(x);
      y_max = std::max(y_max, y);
    }
  }
  if (y_max <= 0) y_max = 1;
  const std::vector<double> ticks(xs.begin(), xs.end());
  auto x_at = [&](double x) {
    const auto i = std::lower_bound(ticks.begin(), ticks.end(), x) - ticks.begin();
    return ticks.size() < 2 ? left + plot_w / 2
                            : left + static_cast<int>(plot_w * i / (ticks.size() - 1));
  };
  auto y_at = [&](double y) { return top + plot_h - static_cast<int>(plot_h * y / y_max); };

  SvgChart chart;
  chart.width = left + plot_w + 20 + legend_w;
  chart.height = top + plot_h + bottom;
  std::string& svg = chart.markup;
  svg = SvgOpen(title, chart.width, chart.height);
  // Axes, a grid line at each quarter of the y range, and the x ticks.
  svg += "<line" + Attr("x1", left) + Attr("y1", top) + Attr("x2", left) +
         Attr("y2", top + plot_h) + " stroke=\"#1a1a1a\"/>";
  svg += "<line" + Attr("x1", left) + Attr("y1", top + plot_h) + Attr("x2", left + plot_w) +
         Attr("y2", top + plot_h) + " stroke=\"#1a1a1a\"/>";
  for (int q = 1; q <= 4; ++q) {
    const double v = y_max * q / 4;
    svg += "<line" + Attr("x1", left) + Attr("y1", y_at(v)) + Attr("x2", left + plot_w) +
           Attr("y2", y_at(v)) + " stroke=\"#dddddd\"/>";
    svg += Text(left - 6, y_at(v) + 4, Short(v), " text-anchor=\"end\"");
  }
  svg += Text(left - 6, top + plot_h + 4, "0", " text-anchor=\"end\"");
  for (double x : ticks) {
    svg += Text(x_at(x), top + plot_h + 18, Short(x), " text-anchor=\"middle\"");
  }
  svg += Text(left + plot_w / 2, top + plot_h + 40, x_label, " text-anchor=\"middle\"");
  svg += Text(left, top - 8, y_label);
  for (size_t i = 0; i < series.size(); ++i) {
    const std::string colour = kColours[i % std::size(kColours)];
    std::string points;
    for (const auto& [x, y] : series[i].points) {
      if (!points.empty()) points += ' ';
      points += std::to_string(x_at(x)) + "," + std::to_string(y_at(y));
    }
    svg += "<polyline points=\"" + points + "\" fill=\"none\" stroke=\"" + colour +
           "\" stroke-width=\"2\"/>";
    for (const auto& [x, y] : series[i].points) {
      svg += "<circle" + Attr("cx", x_at(x)) + Attr("cy", y_at(y)) + " r=\"3\" fill=\"" + colour +
             "\"><title>" + HtmlEscape(series[i].name + ": " + Short(x) + ", " + Short(y)) +
             "</title></circle>";
    }
    const int ly = top + 14 + 20 * static_cast<int>(i);
    svg += "<rect" + Attr("x", left + plot_w + 20) + Attr("y", ly - 10) +
           " width=\"12\" height=\"12\" fill=\"" + colour + "\"/>";
    svg += Text(left + plot_w + 38, ly, series[i].name);
  }
  svg += "</svg>";
  return chart;
}

std::string SvgDocument(const std::vector<SvgChart>& charts) {
  int width = 0, height = 0;
  for (const auto& c : charts) {
    width = std::max(width, c.width);
    height += c.height + 20;
  }
  std::string doc = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg" + Attr("width", width) +
                    Attr("height", height) +
                    " xmlns=\"http://www.w3.org/2000/svg\"><style>text{font-family:system-ui,"
                    "sans-serif;font-size:13px;fill:#1a1a1a}</style>\n";
  int y = 0;
  for (const auto& c : charts) {
    doc += "<g transform=\"translate(0," + std::to_string(y) + ")\">" + c.markup + "</g>\n";
    y += c.height + 20;
  }
  return doc + "</svg>\n";
}

}  // namespace foundry::eval

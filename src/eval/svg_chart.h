// Inline SVG charts for the reports foundry writes (`foundry eval --html`, `foundry bench
// --service --svg`): plain markup, no script, no fonts or styles fetched, so a report opens
// offline and parses as XML.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace foundry::eval {

// One chart: an <svg> element and the room it takes.
struct SvgChart {
  std::string markup;
  int width = 0, height = 0;
};

struct ChartBar {
  std::string label;
  double value = 0;
};

// A horizontal bar chart: one labelled bar per entry, scaled to the largest value (or to
// `max_value` when that is larger, as for ratings out of 5), each bar's value and unit beside it.
SvgChart BarChart(const std::string& title, const std::string& unit,
                  const std::vector<ChartBar>& bars, double max_value);

// One line of a line chart: (x, y) points in the order they are drawn.
struct ChartSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;
};

// A line chart of several series over shared x values (each distinct x gets a tick, evenly
// spaced, as for concurrency levels 1, 2, 4, 8), y from 0 to the largest value, with a legend.
SvgChart LineChart(const std::string& title, const std::string& x_label, const std::string& y_label,
                   const std::vector<ChartSeries>& series);

// A standalone SVG file: the charts stacked top to bottom in one root <svg>.
std::string SvgDocument(const std::vector<SvgChart>& charts);

}  // namespace foundry::eval

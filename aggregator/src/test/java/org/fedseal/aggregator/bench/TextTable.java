package org.fedseal.aggregator.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table with aligned columns for the bench's output: the first column left-aligned,
 * the others right-aligned (numbers), two spaces between columns. A row with a single cell is a
 * section title printed as is.
 */
final class TextTable {
    /** A row of cells, or a section title ({@code section}: one cell, printed as is). */
    private record Row(String[] cells, boolean section) {}

    private final List<Row> rows = new ArrayList<>();
    private final int columns;

    TextTable(String... header) {
        columns = header.length;
        rows.add(new Row(header, false));
    }

    /** Adds a row; missing trailing cells are blank. */
    TextTable row(String... cells) {
        if (cells.length > columns) {
            throw new IllegalArgumentException(cells.length + " cells for " + columns + " columns");
        }
        rows.add(new Row(cells, false));
        return this;
    }

    /** Adds a section title spanning the table. */
    TextTable section(String title) {
        rows.add(new Row(new String[] {title}, true));
        return this;
    }

    void print(PrintStream out, String indent) {
        int[] width = new int[columns];
        for (Row row : rows) {
            for (int i = 0; i < row.cells().length && !row.section(); i++) {
                width[i] = Math.max(width[i], row.cells()[i].length());
            }
        }
        for (Row row : rows) {
            String[] r = row.cells();
            if (row.section()) {
                out.println(indent + r[0]);
                continue;
            }
            StringBuilder line = new StringBuilder(indent);
            for (int i = 0; i < columns; i++) {
                String cell = i < r.length ? r[i] : "";
                if (i > 0) {
                    line.append("  ");
                }
                line.append(
                        i == 0
                                ? String.format("%-" + width[i] + "s", cell)
                                : String.format("%" + width[i] + "s", cell));
            }
            out.println(line.toString().stripTrailing());
        }
    }

    /** A rate or count with thousands separators and one decimal, e.g. {@code 10,565.0}. */
    static String num(double d) {
        return String.format("%,.1f", d);
    }

    /** A fraction as a percentage with one decimal, e.g. {@code 31.4 %}. */
    static String percent(double fraction) {
        return String.format("%.1f %%", 100 * fraction);
    }
}

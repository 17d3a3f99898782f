//! A small page-layout engine over printpdf's drawing operations: text
//! wrapped by measured glyph widths, headings kept with what follows, and
//! tables whose rows wrap their cells and break across pages with the header
//! row repeated.
//!
//! Coordinates are PDF points (1/72 inch) from the page's lower left corner.

use printpdf::{
    Color, FontId, Greyscale, Line, LinePoint, Op, PaintMode, ParsedFont, PdfDocument,
    PdfFontHandle, PdfPage, Point, Pt, Rect, Rgb, TextItem, TextMatrix,
};

use crate::report::ReportError;

/// A4 width and height in points (210 × 297 mm).
pub(super) const PAGE_WIDTH: f32 = 595.28;
pub(super) const PAGE_HEIGHT: f32 = 841.89;
/// Left, right and top margin: 18 mm.
const MARGIN: f32 = 51.0;
/// Bottom margin, leaving room for the footer below it.
const BOTTOM: f32 = 60.0;
/// Baseline of the footer line.
const FOOTER_Y: f32 = 32.0;
/// Line height as a multiple of the font size.
const LEADING: f32 = 1.3;
/// Padding inside table cells.
pub(super) const CELL_PADDING: f32 = 3.0;

/// Width available for text between the left and right margins.
pub(super) const TEXT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;

const REGULAR_TTF: &[u8] = include_bytes!("../../../data/fonts/DejaVuSans.ttf");
const BOLD_TTF: &[u8] = include_bytes!("../../../data/fonts/DejaVuSans-Bold.ttf");
const MONO_TTF: &[u8] = include_bytes!("../../../data/fonts/DejaVuSansMono.ttf");

/// A typeface: its PDF resource and the metrics used to measure text.
pub(super) struct Face {
    id: FontId,
    parsed: ParsedFont,
}

impl Face {
    fn load(doc: &mut PdfDocument, bytes: &[u8], name: &str) -> Result<Face, ReportError> {
        let mut warnings = Vec::new();
        let parsed = ParsedFont::from_bytes(bytes, 0, &mut warnings)
            .ok_or_else(|| ReportError::Pdf(format!("bundled font {name} cannot be parsed")))?;
        let id = doc.add_font(&parsed);
        Ok(Face { id, parsed })
    }

    /// Measures the advance width of `text` at `size` points. Characters
    /// the font lacks are measured as its missing-glyph box, as drawn.
    pub(super) fn width(&self, text: &str, size: f32) -> f32 {
        let units: u32 = text
            .chars()
            .map(|c| {
                let glyph = self.parsed.lookup_glyph_index(c as u32).unwrap_or(0);
                u32::from(self.parsed.get_glyph_width(glyph).unwrap_or(0))
            })
            .sum();
        units as f32 * size / f32::from(self.parsed.units_per_em.max(1))
    }
}

/// The three faces the report uses, all DejaVu.
pub(super) struct Fonts {
    pub regular: Face,
    pub bold: Face,
    pub mono: Face,
}

impl Fonts {
    pub(super) fn load(doc: &mut PdfDocument) -> Result<Fonts, ReportError> {
        Ok(Fonts {
            regular: Face::load(doc, REGULAR_TTF, "DejaVuSans.ttf")?,
            bold: Face::load(doc, BOLD_TTF, "DejaVuSans-Bold.ttf")?,
            mono: Face::load(doc, MONO_TTF, "DejaVuSansMono.ttf")?,
        })
    }
}

/// Which face and size a run of text uses.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Style {
    Regular(f32),
    Bold(f32),
    Mono(f32),
}

impl Style {
    fn size(self) -> f32 {
        match self {
            Style::Regular(size) | Style::Bold(size) | Style::Mono(size) => size,
        }
    }

    fn line_height(self) -> f32 {
        self.size() * LEADING
    }
}

/// Replaces characters that have no printable glyph (control characters and tabs).
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' => ' ',
            c if c.is_control() && c != '\n' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// Wraps text into lines no wider than `width`, breaking at spaces, and
/// inside a word only when the word alone is wider than a line. Newlines
/// in the text start new lines.
pub(super) fn wrap(face: &Face, size: f32, text: &str, width: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for paragraph in printable(text).split('\n') {
        let mut line = String::new();
        for word in paragraph.split(' ').filter(|w| !w.is_empty()) {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if face.width(&candidate, size) <= width {
                line = candidate;
                continue;
            }
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            line = break_word(face, size, word, width, &mut lines);
        }
        lines.push(line);
    }
    lines
}

/// Pushes full-width pieces of an over-long word and returns the last piece.
/// A piece ends after the last `.`, `-`, `/`, `_`, `:` or `,` that fits, as
/// in host names and paths, unless that would leave it under a third full.
fn break_word(face: &Face, size: f32, word: &str, width: f32, lines: &mut Vec<String>) -> String {
    let mut rest = word;
    while face.width(rest, size) > width {
        let fit = fitting_prefix(face, size, rest, width);
        let cut = rest[..fit]
            .rfind(['.', '-', '/', '_', ':', ','])
            .map(|i| i + 1)
            .filter(|&i| i >= fit / 3)
            .unwrap_or(fit);
        lines.push(rest[..cut].to_string());
        rest = &rest[cut..];
    }
    rest.to_string()
}

/// Returns the byte length of the longest prefix no wider than `width`, at least one character.
fn fitting_prefix(face: &Face, size: f32, text: &str, width: f32) -> usize {
    let mut used = 0.0;
    for (i, c) in text.char_indices() {
        let mut buffer = [0u8; 4];
        used += face.width(c.encode_utf8(&mut buffer), size);
        if used > width {
            return if i == 0 { c.len_utf8() } else { i };
        }
    }
    text.len()
}

/// A table column: its header and its share of the table width.
pub(super) struct Column<'a> {
    pub header: &'a str,
    /// Fraction of the text width; a table's fractions add up to 1.
    pub share: f32,
    pub mono: bool,
}

/// Pages under construction and the cursor on the current one.
pub(super) struct Layout<'a> {
    fonts: &'a Fonts,
    pages: Vec<Vec<Op>>,
    ops: Vec<Op>,
    /// Top of the free space on the current page.
    y: f32,
}

impl<'a> Layout<'a> {
    pub(super) fn new(fonts: &'a Fonts) -> Self {
        Layout {
            fonts,
            pages: Vec::new(),
            ops: Vec::new(),
            y: PAGE_HEIGHT - MARGIN,
        }
    }

    fn face(&self, style: Style) -> &'a Face {
        match style {
            Style::Regular(_) => &self.fonts.regular,
            Style::Bold(_) => &self.fonts.bold,
            Style::Mono(_) => &self.fonts.mono,
        }
    }

    pub(super) fn new_page(&mut self) {
        self.pages.push(std::mem::take(&mut self.ops));
        self.y = PAGE_HEIGHT - MARGIN;
    }

    /// Starts a new page unless `height` points fit above the bottom margin.
    fn ensure(&mut self, height: f32) {
        if self.y - height < BOTTOM {
            self.new_page();
        }
    }

    pub(super) fn space(&mut self, height: f32) {
        self.y -= height;
    }

    /// Draws one line of text with its baseline at `baseline`.
    fn text_at(&mut self, x: f32, baseline: f32, style: Style, text: &str, color: Color) {
        let font = PdfFontHandle::External(self.face(style).id.clone());
        self.ops.extend([
            Op::SetFillColor { col: color },
            Op::StartTextSection,
            Op::SetFont {
                font,
                size: Pt(style.size()),
            },
            Op::SetTextMatrix {
                matrix: TextMatrix::Translate(Pt(x), Pt(baseline)),
            },
            Op::ShowText {
                items: vec![TextItem::Text(text.to_string())],
            },
            Op::EndTextSection,
        ]);
    }

    /// Writes wrapped text at an indent from the left margin, breaking pages as needed.
    pub(super) fn paragraph(&mut self, style: Style, text: &str, indent: f32) {
        let lines = wrap(self.face(style), style.size(), text, TEXT_WIDTH - indent);
        for line in lines {
            self.ensure(style.line_height());
            self.y -= style.line_height();
            let baseline = self.y + style.line_height() - style.size();
            self.text_at(MARGIN + indent, baseline, style, &line, ink());
        }
    }

    /// Writes a bullet item: a bullet at `indent` and the text wrapped beside it.
    pub(super) fn bullet(&mut self, style: Style, text: &str) {
        self.ensure(style.line_height());
        let baseline = self.y - style.size();
        self.text_at(MARGIN + 4.0, baseline, style, "•", ink());
        self.paragraph(style, text, 14.0);
    }

    /// Writes a heading, moving to a new page unless it and a few lines after it fit.
    pub(super) fn heading(&mut self, text: &str, size: f32) {
        let style = Style::Bold(size);
        self.ensure(style.line_height() + 6.0 + 4.0 * Style::Regular(9.0).line_height());
        self.y -= 6.0;
        self.paragraph(style, text, 0.0);
        self.y -= 2.0;
    }

    /// Writes a heading and the table below it, moving both to a new page unless
    /// the heading, the header row and the first row fit on this one.
    pub(super) fn titled_table(
        &mut self,
        title: &str,
        title_size: f32,
        columns: &[Column],
        rows: &[Vec<String>],
        size: f32,
    ) {
        let title_height = Style::Bold(title_size).line_height() + 8.0;
        let lead = title_height + self.table_lead_height(columns, rows, size);
        self.ensure(lead.min(PAGE_HEIGHT - MARGIN - BOTTOM));
        self.heading(title, title_size);
        self.table(columns, rows, size);
    }

    /// Draws a table whose cells wrap. A row that does not fit moves to a new
    /// page, where the header row is drawn again; a row taller than a whole
    /// page is split across pages.
    pub(super) fn table(&mut self, columns: &[Column], rows: &[Vec<String>], size: f32) {
        let widths = column_widths(columns);
        let header = self.header_lines(columns, &widths, size);

        // Keep the header with the whole first row, unless that row needs more than a page.
        let lead = self.table_lead_height(columns, rows, size);
        self.ensure(lead.min(PAGE_HEIGHT - MARGIN - BOTTOM));
        self.draw_row(
            columns,
            &widths,
            &header,
            0,
            usize::MAX,
            Style::Bold(size),
            true,
        );
        for row in rows {
            let lines = self.cell_lines(columns, &widths, row, None);
            self.table_row(columns, &widths, &lines, &header, size);
        }
        self.y -= 4.0;
    }

    fn header_lines(&self, columns: &[Column], widths: &[f32], size: f32) -> Vec<Vec<String>> {
        let header: Vec<String> = columns.iter().map(|c| c.header.to_string()).collect();
        self.cell_lines(columns, widths, &header, Some(Style::Bold(size)))
    }

    /// Returns the height of a table's header row and first row together.
    fn table_lead_height(&self, columns: &[Column], rows: &[Vec<String>], size: f32) -> f32 {
        let widths = column_widths(columns);
        let line_height = Style::Regular(size).line_height();
        let header = row_height(&self.header_lines(columns, &widths, size), line_height);
        let first_row = rows
            .first()
            .map(|row| row_height(&self.cell_lines(columns, &widths, row, None), line_height))
            .unwrap_or(line_height + 2.0 * CELL_PADDING);
        header + first_row
    }

    fn cell_lines(
        &self,
        columns: &[Column],
        widths: &[f32],
        cells: &[String],
        style: Option<Style>,
    ) -> Vec<Vec<String>> {
        let size = style.map_or(8.0, Style::size);
        columns
            .iter()
            .zip(widths)
            .zip(cells)
            .map(|((column, width), text)| {
                let cell_style = style.unwrap_or(if column.mono {
                    Style::Mono(size)
                } else {
                    Style::Regular(size)
                });
                let inner = width - 2.0 * CELL_PADDING;
                wrap(self.face(cell_style), size, text, inner)
            })
            .collect()
    }

    fn table_row(
        &mut self,
        columns: &[Column],
        widths: &[f32],
        lines: &[Vec<String>],
        header: &[Vec<String>],
        size: f32,
    ) {
        let line_height = Style::Regular(size).line_height();
        let total = lines.iter().map(Vec::len).max().unwrap_or(0).max(1);
        let header_height = row_height(header, line_height);
        let page_room = PAGE_HEIGHT - MARGIN - BOTTOM - header_height - 2.0 * CELL_PADDING;
        let page_capacity = (page_room / line_height).floor().max(1.0) as usize;
        let mut start = 0;
        while start < total {
            let room = ((self.y - BOTTOM - 2.0 * CELL_PADDING) / line_height).floor();
            let fit = room.max(0.0) as usize;
            let remaining = total - start;
            // Keep a row whole unless it is taller than a page on its own.
            if fit == 0 || (fit < remaining && remaining <= page_capacity) {
                self.new_page();
                self.draw_row(
                    columns,
                    widths,
                    header,
                    0,
                    usize::MAX,
                    Style::Bold(size),
                    true,
                );
                continue;
            }
            let take = remaining.min(fit);
            self.draw_row(
                columns,
                widths,
                lines,
                start,
                take,
                Style::Regular(size),
                false,
            );
            start += take;
        }
    }

    /// Draws lines `first..first + count` of each cell as one row of the table.
    #[allow(clippy::too_many_arguments)]
    fn draw_row(
        &mut self,
        columns: &[Column],
        widths: &[f32],
        lines: &[Vec<String>],
        first: usize,
        count: usize,
        style: Style,
        header: bool,
    ) {
        let line_height = style.line_height();
        let shown = lines
            .iter()
            .map(|l| l.len().saturating_sub(first).min(count))
            .max();
        let height = shown.unwrap_or(0).max(1) as f32 * line_height + 2.0 * CELL_PADDING;
        let top = self.y;
        if header {
            self.fill_rect(MARGIN, top - height, TEXT_WIDTH, height, grey(0.88));
        }
        let mut x = MARGIN;
        for ((column, width), cell) in columns.iter().zip(widths).zip(lines) {
            let cell_style = match style {
                Style::Regular(size) if column.mono => Style::Mono(size),
                other => other,
            };
            let end = cell.len().min(first.saturating_add(count));
            for (i, line) in cell.iter().enumerate().take(end).skip(first) {
                let baseline = top - CELL_PADDING - (i - first + 1) as f32 * line_height
                    + (line_height - style.size());
                self.text_at(x + CELL_PADDING, baseline, cell_style, line, ink());
            }
            x += width;
        }
        self.y = top - height;
        self.rule(self.y, grey(0.75));
    }

    fn fill_rect(&mut self, x: f32, y: f32, width: f32, height: f32, color: Color) {
        let mut rectangle = Rect::from_xywh(Pt(x), Pt(y), Pt(width), Pt(height));
        rectangle.mode = Some(PaintMode::Fill);
        self.ops.extend([
            Op::SetFillColor { col: color },
            Op::DrawRectangle { rectangle },
        ]);
    }

    /// Draws a thin horizontal line across the text width at `y`.
    pub(super) fn rule(&mut self, y: f32, color: Color) {
        let point = |x: f32| LinePoint {
            p: Point { x: Pt(x), y: Pt(y) },
            bezier: false,
        };
        let line = Line {
            points: vec![point(MARGIN), point(PAGE_WIDTH - MARGIN)],
            is_closed: false,
        };
        self.ops.extend([
            Op::SetOutlineColor { col: color },
            Op::SetOutlineThickness { pt: Pt(0.5) },
            Op::DrawLine { line },
        ]);
    }

    /// Closes the last page and adds the footer, `left` and "Page i of n", to every page.
    pub(super) fn finish(mut self, left: &str) -> Vec<PdfPage> {
        if !self.ops.is_empty() || self.pages.is_empty() {
            self.new_page();
        }
        let total = self.pages.len();
        let pages = std::mem::take(&mut self.pages);
        let style = Style::Regular(7.5);
        pages
            .into_iter()
            .enumerate()
            .map(|(i, ops)| {
                self.ops = ops;
                self.rule(FOOTER_Y + 10.0, grey(0.75));
                self.text_at(MARGIN, FOOTER_Y, style, left, grey(0.35));
                let number = format!("Page {} of {total}", i + 1);
                let x = PAGE_WIDTH - MARGIN - self.face(style).width(&number, style.size());
                self.text_at(x, FOOTER_Y, style, &number, grey(0.35));
                let ops = std::mem::take(&mut self.ops);
                PdfPage::new(printpdf::Mm(210.0), printpdf::Mm(297.0), ops)
            })
            .collect()
    }
}

fn column_widths(columns: &[Column]) -> Vec<f32> {
    columns.iter().map(|c| c.share * TEXT_WIDTH).collect()
}

fn row_height(lines: &[Vec<String>], line_height: f32) -> f32 {
    let count = lines.iter().map(Vec::len).max().unwrap_or(0).max(1);
    count as f32 * line_height + 2.0 * CELL_PADDING
}

pub(super) fn grey(level: f32) -> Color {
    Color::Greyscale(Greyscale {
        percent: level,
        icc_profile: None,
    })
}

/// The colour of body text: near-black.
pub(super) fn ink() -> Color {
    Color::Rgb(Rgb {
        r: 0.1,
        g: 0.1,
        b: 0.12,
        icc_profile: None,
    })
}

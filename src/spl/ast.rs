//! The SPL abstract syntax tree.
//!
//! Every command parses into a [`Command`] that keeps its name, byte position,
//! raw argument tokens and subsearches, so code that must see every command
//! (the read-only guard, the Splunk backend) can walk any query. Commands the
//! local engine evaluates also carry a typed form in [`CommandKind`].

use super::token::{CompareOp, Token};
use super::SplError;

/// A parsed query: commands in pipeline order.
#[derive(Debug, Clone, PartialEq)]
pub struct Pipeline {
    /// The text of this pipeline; for a subsearch, the text inside its brackets.
    pub source: String,
    /// Byte offset of `source` in the top-level query; every position in the
    /// tree is an offset into the top-level query.
    pub offset: usize,
    pub commands: Vec<Command>,
    /// Triple-backtick comments, removed before parsing, with their positions.
    pub comments: Vec<Token>,
}

impl Pipeline {
    /// Calls `visit` on every command, including those in subsearches at any
    /// depth, parents before their subsearches.
    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Command)) {
        for command in &self.commands {
            visit(command);
            for sub in &command.subsearches {
                sub.walk(visit);
            }
        }
    }
}

/// One command of a pipeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Command {
    /// The command name in lower case; for a macro command, the macro name.
    pub name: String,
    /// Byte offset of the command name, or of the first term of an implicit search.
    pub position: usize,
    /// True for the search command a query starts with when it names none.
    pub implicit: bool,
    /// Argument tokens after the name; each subsearch is one
    /// [`super::token::TokenKind::Subsearch`] token.
    pub args: Vec<Token>,
    pub subsearches: Vec<Pipeline>,
    pub kind: CommandKind,
}

/// The typed form of a command.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandKind {
    /// `search`; `None` when it has no terms, which matches everything.
    Search(Option<SearchExpr>),
    Where(Expr),
    Stats(Stats),
    Table(Vec<String>),
    /// `fields [+|-] f1, f2`: keep (or with `-`, remove) the named fields.
    Fields {
        remove: bool,
        fields: Vec<String>,
    },
    Sort(Sort),
    Head(usize),
    Tail(usize),
    Dedup(Dedup),
    Rex(Rex),
    Eval(Vec<Assignment>),
    /// `rename a AS b, c AS d`.
    Rename(Vec<(String, String)>),
    /// `fillnull [value=X] [fields]`; no fields means every field seen.
    Fillnull {
        value: String,
        fields: Vec<String>,
    },
    /// `top` (or `rare` when `rare` is true).
    Top(Top),
    /// `bin` or its alias `bucket`.
    Bin(Bin),
    Timechart(Timechart),
    Transaction(Transaction),
    Lookup(Lookup),
    /// A command made of a macro call, such as `` `security_content_ctime(firstTime)` ``.
    Macro(MacroCall),
    /// A command the local engine does not know; only its tokens are kept.
    Other,
    /// A known command whose arguments do not fit the local engine's grammar;
    /// the error says why, and `run` returns it.
    Invalid(SplError),
}

/// A macro call: `` `name` `` or `` `name(arg1, arg2)` ``.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MacroCall {
    pub name: String,
    pub args: Vec<String>,
    pub position: usize,
}

/// A search-language condition.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchExpr {
    And(Vec<SearchExpr>),
    Or(Vec<SearchExpr>),
    Not(Box<SearchExpr>),
    /// A bare term or a quoted phrase matched in `_raw`; may hold `*` wildcards.
    Term {
        text: String,
        quoted: bool,
        position: usize,
    },
    /// `field OP value`; the value may hold `*` wildcards for `=` and `!=`.
    Compare {
        field: String,
        op: CompareOp,
        value: String,
        position: usize,
    },
    /// `field IN (v1, v2)`.
    In {
        field: String,
        values: Vec<String>,
        position: usize,
    },
    /// `earliest=...` or `latest=...`.
    Time {
        bound: TimeBound,
        spec: TimeSpec,
        position: usize,
    },
    Macro(MacroCall),
    /// `TERM(x)` or `CASE(x)`: a term matched more strictly than a bare one.
    Directive {
        directive: TermDirective,
        text: String,
        position: usize,
    },
    /// A subsearch, by its index in [`Command::subsearches`].
    Subsearch {
        index: usize,
        position: usize,
    },
}

/// A search directive that changes how a term matches `_raw`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermDirective {
    /// `TERM(x)`: `x` must be bounded by major breakers (spaces, brackets,
    /// quotes, `|!;,&?+`), so `TERM(10.0.0.1)` does not match `ip=10.0.0.1`.
    Term,
    /// `CASE(x)`: `x` matches only with the same letter case.
    Case,
}

/// Which end of the time range a time modifier sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeBound {
    /// Inclusive lower bound.
    Earliest,
    /// Exclusive upper bound.
    Latest,
}

/// A time modifier value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeSpec {
    /// Microseconds since the epoch: epoch seconds or an absolute date.
    Absolute(i64),
    /// An offset from now with an optional snap, as in `-7d@d`.
    Relative {
        offset: i64,
        unit: TimeUnit,
        snap: Option<TimeUnit>,
    },
    /// `now` or `now()`.
    Now,
}

/// A unit of relative time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeUnit {
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Year,
}

/// An `eval`/`where` expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Str(String),
    Num(f64),
    /// A field reference, bare or in single quotes.
    Field(String),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Binary {
        op: BinaryOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    Call {
        name: String,
        args: Vec<Expr>,
        position: usize,
    },
}

/// A binary operator in an expression.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Concat,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Like,
    And,
    Or,
    Xor,
}

/// `name = expression` in `eval`.
#[derive(Debug, Clone, PartialEq)]
pub struct Assignment {
    pub field: String,
    pub expr: Expr,
}

/// The `stats` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stats {
    pub aggregations: Vec<Aggregation>,
    pub by: Vec<String>,
}

/// One `stats` function call such as `dc(src_ip) as sources`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aggregation {
    /// The function name in lower case.
    pub function: String,
    pub field: Option<String>,
    /// The output field: the `as` name, or the call as written (`dc(src_ip)`).
    pub output: String,
    pub position: usize,
}

/// The `sort` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// Maximum rows kept; `None` for `sort 0`, which keeps all.
    pub limit: Option<usize>,
    pub keys: Vec<SortKey>,
}

/// One `sort` key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    pub field: String,
    pub descending: bool,
    pub order: SortOrder,
}

/// How `sort` compares values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// Numeric when both values are numbers, else lexicographic.
    Auto,
    /// `num(f)`: numbers first in numeric order, then other values.
    Numeric,
    /// `str(f)`: lexicographic.
    Lexicographic,
}

/// The `dedup` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dedup {
    /// How many rows to keep per combination of values.
    pub count: usize,
    pub fields: Vec<String>,
    /// Keep rows that lack one of the fields instead of dropping them.
    pub keep_empty: bool,
}

/// The `rex` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rex {
    pub field: String,
    pub regex: String,
    /// Matches extracted per row; 0 means all of them.
    pub max_match: usize,
    pub position: usize,
}

/// The `top` and `rare` commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Top {
    pub rare: bool,
    pub limit: usize,
    pub fields: Vec<String>,
    pub by: Vec<String>,
}

/// A bin width for `bin`, `timechart` and time limits of `transaction`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Span {
    /// A fixed duration in microseconds (`30s`, `5m`, `1h`, `1d`, `1w`).
    Micros(i64),
    /// Calendar months (`1mon`, `3mon`, `1y` is 12).
    Months(u32),
    /// A plain number: a width for numeric fields, or seconds for `_time`.
    Number(f64),
}

/// The `bin` (alias `bucket`) command: `bin [span=X] field [as name]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Bin {
    pub field: String,
    pub span: Span,
    /// The field the bin goes to: the `as` name, or `field` itself.
    pub output: String,
}

/// The `timechart` command.
#[derive(Debug, Clone, PartialEq)]
pub struct Timechart {
    /// `None` picks a span from the time range of the rows.
    pub span: Option<Span>,
    /// Series kept with a split-by field, by total; 0 keeps all.
    pub limit: usize,
    /// Put series beyond `limit` in an `OTHER` column.
    pub use_other: bool,
    /// Put rows without the split-by field in a `NULL` column.
    pub use_null: bool,
    /// The functions and at most one split-by field.
    pub stats: Stats,
}

/// The `transaction` command: `transaction fields [maxspan=X] [maxpause=X] [maxevents=N]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub fields: Vec<String>,
    /// Longest time from the first to the last event, in microseconds.
    pub max_span: Option<i64>,
    /// Longest time between two consecutive events, in microseconds.
    pub max_pause: Option<i64>,
    pub max_events: usize,
}

/// The `lookup` command: `lookup table field [AS f] ... [OUTPUT|OUTPUTNEW field [AS f] ...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The table name: a CSV file name, with or without `.csv`.
    pub table: String,
    /// Match fields as (lookup column, row field).
    pub inputs: Vec<(String, String)>,
    /// Output fields as (lookup column, row field); empty outputs every
    /// column that is not a match field.
    pub outputs: Vec<(String, String)>,
    /// `OUTPUTNEW`: skip rows that already have every output field.
    pub output_new: bool,
    pub position: usize,
}

//! Command-line interface.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// Switchyard: chat with many LLMs side by side and steer how requests are routed.
#[derive(Debug, Parser)]
#[command(name = "switchyard", version, about)]
pub struct Cli {
    /// Where requests go.
    #[command(flatten)]
    pub source: SourceArgs,
    /// Routing preferences (OpenRouter's `provider` object).
    #[command(flatten)]
    pub routing: crate::prefs::RoutingArgs,
    /// What is asked: system prompt, sampling, output length, reasoning.
    #[command(flatten)]
    pub request: crate::settings::RequestArgs,
    /// Open one pane per model (repeatable).
    #[arg(short = 'm', long = "model", global = true)]
    pub models: Vec<String>,
    /// Fallback models sent as `models` after the primary (repeatable).
    #[arg(long = "fallback", global = true)]
    pub fallbacks: Vec<String>,
    /// Keep nothing of this run in the history.
    #[arg(long, global = true)]
    pub no_history: bool,
    /// Continue the last conversation (its panes, models and settings).
    #[arg(short = 'c', long = "continue")]
    pub continue_last: bool,
    /// The theme: dark, light, high-contrast, terminal, one of the config directory's
    /// `themes/`, or auto (dark or light by the terminal's background).
    #[arg(long, value_name = "NAME")]
    pub theme: Option<String>,
    /// Colours to draw with: auto (from NO_COLOR, COLORTERM and TERM), truecolor, 256, 16 or none.
    #[arg(long, value_name = "DEPTH")]
    pub colors: Option<String>,
    /// What to do (default: open the workbench).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags that choose the source of models.
#[derive(Debug, Clone, Default, Args)]
pub struct SourceArgs {
    /// Config file (default: the platform config dir's switchyard/config.toml).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Lay the config's `[profiles.NAME]` over the rest of it.
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// Use the built-in simulated fleet even when a key is set.
    #[arg(long, global = true)]
    pub sim: bool,
    /// Fleet definition for the simulated fleet (TOML; default: the built-in one).
    #[arg(long, global = true, value_name = "PATH")]
    pub fleet: Option<PathBuf>,
    /// With the simulated fleet: route across its providers with Switchyard's own router
    /// (health panel on F6) instead of the fleet's OpenRouter-style aggregator.
    #[arg(long, global = true)]
    pub route_locally: bool,
    /// What the local router does when a stream fails after its first token: restart it on the
    /// next endpoint (default), continue the partial text on an endpoint that accepts an
    /// assistant prefill, or surface the partial answer marked incomplete.
    #[arg(long, global = true, value_name = "POLICY", value_parser = ["restart", "continue", "surface"])]
    pub mid_stream: Option<String>,
    /// Any OpenAI-compatible server, e.g. http://127.0.0.1:11434/v1.
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// Environment variable holding the key for --base-url.
    #[arg(long, global = true, value_name = "VAR")]
    pub api_key_env: Option<String>,
    /// A provider named in the config file.
    #[arg(long, global = true, value_name = "NAME")]
    pub provider: Option<String>,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Ask one or more models without the TUI and print the answers.
    Ask(AskArgs),
    /// List the source's models.
    Models(ModelsArgs),
    /// Run the simulated fleet as a standalone server.
    Sim(SimArgs),
    /// Show the route each model's request would take now, and the body; sends nothing.
    Plan(PlanArgs),
    /// Send the same cases to every model named with -m and report cost, speed and quality.
    Bakeoff(BakeoffArgs),
    /// List, search, show, export, import and delete kept conversations.
    #[command(subcommand)]
    History(HistoryCommand),
    /// Keep, list and remove API keys (in the OS keyring, else a 0600 file).
    #[command(subcommand)]
    Auth(AuthCommand),
    /// The config file: its defaults, where it is, and whether it is right.
    Config(ConfigArgs),
}

/// `switchyard auth …`.
#[derive(Debug, Subcommand)]
pub enum AuthCommand {
    /// Keep a provider's key (read without echo from a terminal, or one line from standard
    /// input): in the OS keyring, or where there is none a 0600 file in the state directory.
    Set {
        /// `openrouter`, or a `[[providers]]` name of the config.
        provider: String,
    },
    /// Every provider with a key, where it lives and its last four characters (never the key).
    List,
    /// Forget a provider's key, wherever Switchyard keeps it.
    Remove {
        /// `openrouter`, or a `[[providers]]` name of the config.
        provider: String,
    },
}

/// `switchyard config`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["print_default", "check", "path"])))]
pub struct ConfigArgs {
    /// Print the built-in defaults, every key commented (a starting point for your own file).
    #[arg(long)]
    pub print_default: bool,
    /// Check a config file (default: the one in use): every error with its file, line and
    /// field; exit 2 when there is one.
    #[arg(long, value_name = "FILE")]
    #[allow(clippy::option_option)]
    pub check: Option<Option<PathBuf>>,
    /// Print where the config file is read from (and its themes/ and schemas/).
    #[arg(long)]
    pub path: bool,
}

/// `switchyard history …`.
#[derive(Debug, Subcommand)]
pub enum HistoryCommand {
    /// Conversations, latest first.
    List {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// At most this many.
        #[arg(short = 'n', long, default_value_t = 50)]
        limit: usize,
    },
    /// Full-text search over every prompt and answer.
    Search {
        /// One JSON object per hit per line.
        #[arg(long)]
        json: bool,
        /// The words (all must appear; the last may be a prefix).
        #[arg(required = true, num_args = 1..)]
        words: Vec<String>,
    },
    /// A conversation as Markdown (default: the latest).
    Show {
        /// Its id, or a unique start of it.
        id: Option<String>,
    },
    /// Conversations as Markdown or JSON (default: all of them, as JSON).
    Export {
        /// Ids (or unique starts); none: every conversation.
        ids: Vec<String>,
        /// `json` (importable) or `md`; default from the output file's extension, else json.
        #[arg(long, value_parser = ["json", "md"])]
        format: Option<String>,
        /// Write here instead of standard output.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Read a JSON export back in (conversations already there are skipped, said by id).
    Import {
        /// The export file.
        file: PathBuf,
    },
    /// Delete a conversation.
    Rm {
        /// Its id, or a unique start of it.
        id: String,
    },
}

/// `switchyard plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// One JSON object per model.
    #[arg(long)]
    pub json: bool,
    /// The prompt to plan for (its size counts against context windows).
    #[arg(default_value = "")]
    pub prompt: String,
}

/// `switchyard ask`.
#[derive(Debug, Args)]
pub struct AskArgs {
    /// One JSON object per line per event.
    #[arg(long)]
    pub json: bool,
    /// Print the exact request bodies instead of sending them.
    #[arg(long)]
    pub print_request: bool,
    /// Attach a file (PNG, JPEG, WebP, GIF or PDF) or an http(s) URL; repeatable.
    #[arg(long = "attach", value_name = "FILE|URL")]
    pub attach: Vec<String>,
    /// The prompt ("-" reads standard input).
    #[arg(required = true, num_args = 1.., value_name = "PROMPT")]
    pub prompt: Vec<String>,
}

/// `switchyard bakeoff`.
#[derive(Debug, Args)]
pub struct BakeoffArgs {
    /// The cases: a JSON Lines file (`{"prompt": …, "expected": …, "schema": …,
    /// "attachments": […]}` per line), a folder of .txt/.md prompts, or an earlier report's
    /// .json (to run its cases again on other models).
    #[arg(long, value_name = "FILE|DIR", conflicts_with = "prompt")]
    pub cases: Option<PathBuf>,
    /// Finish an earlier bake-off from its (partial) .json report, or from history by its id
    /// (`switchyard history list`): its complete answers are kept and only the rest are asked,
    /// of the same models.
    #[arg(long, value_name = "REPORT.json|ID", conflicts_with_all = ["cases", "prompt"])]
    pub resume: Option<PathBuf>,
    /// A model that grades every answer from 0 to 10 (against the case's expected answer).
    #[arg(long, value_name = "MODEL")]
    pub judge: Option<String>,
    /// Write the report here: .md, .csv or .json; repeatable (default: Markdown on standard
    /// output).
    #[arg(long, value_name = "FILE")]
    pub report: Vec<PathBuf>,
    /// Print one JSON object per finished answer and verdict on standard output (the `done`
    /// objects of `ask --json`, with the case).
    #[arg(long)]
    pub json: bool,
    /// Most requests in flight at once, shared fairly between the models.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub concurrency: u16,
    /// One prompt as the only case (instead of --cases).
    #[arg(num_args = 0.., value_name = "PROMPT")]
    pub prompt: Vec<String>,
}

/// `switchyard models`.
#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// JSON output (the catalog entries as received).
    #[arg(long)]
    pub json: bool,
    /// Only free models.
    #[arg(long)]
    pub free: bool,
    /// Fuzzy filter.
    pub query: Option<String>,
}

/// `switchyard sim`.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Multiply every simulated delay (0 answers instantly).
    #[arg(long)]
    pub time_scale: Option<f64>,
}

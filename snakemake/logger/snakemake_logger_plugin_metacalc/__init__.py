"""One line per job instead of Snakemake's ~25 lines per job; a failed job's log in full.

Snakemake's own log keeps everything (.snakemake/log/, copied to reports/logs/snakemake.log by the workflow).
Dry runs (-n), --verbose and --debug-dag print exactly what Snakemake prints without this plugin, since there
the detail is what was asked for.
"""

import sys
import time
from logging import ERROR, WARNING, LogRecord

from snakemake.logging import DefaultFilter, DefaultFormatter
from snakemake_interface_logger_plugins.base import LogHandlerBase
from snakemake_interface_logger_plugins.common import LogEvent

NOTHING_TO_DO = "Nothing to be done"


def _clock() -> str:
    return time.strftime("%H:%M:%S")


class LogHandler(LogHandlerBase):
    def __post_init__(self) -> None:
        settings = self.common_settings
        self.detailed = bool(settings.dryrun or settings.verbose or settings.debug_dag)
        self.default_filter = DefaultFilter(settings.quiet, settings.debug_dag, settings.verbose, settings.dryrun,
                                            settings.printshellcmds)
        self.default_formatter = DefaultFormatter(settings.quiet, show_failed_logs=True)
        self.stream = sys.stdout if settings.stdout else sys.stderr

    def emit(self, record: LogRecord) -> None:
        try:
            text = self.default_text(record) if self.detailed else self.summary_text(record)
            if text:
                self.stream.write(text + "\n")
                self.stream.flush()
        except Exception:
            self.handleError(record)

    def default_text(self, record: LogRecord) -> str | None:
        return self.default_formatter.format(record) if self.default_filter.filter(record) else None

    def summary_text(self, record: LogRecord) -> str | None:
        event = getattr(record, "event", None)
        if event == LogEvent.JOB_INFO:
            if record.shellcmd is None and not record.rule_msg:
                return None  # a target rule: no work, nothing to report
            what = f": {record.rule_msg}" if record.rule_msg else ""
            return f"{_clock()} {record.rule_name}{what}"
        if event == LogEvent.JOB_ERROR:
            logs = list(record.log)
            where = f" (log: {', '.join(logs)})" if logs else ""
            lines = [f"{_clock()} {record.rule_name} failed{where}"]
            for path in logs:
                lines.extend(f"    {line}" for line in _read(path).splitlines())
            return "\n".join(lines)
        if event == LogEvent.SHELLCMD:
            return self.default_text(record)
        if event is not None and event not in (LogEvent.ERROR, LogEvent.GROUP_ERROR):
            return None  # progress, job statistics, the run's header: in Snakemake's own log
        if event == LogEvent.ERROR and _is_failed_command(record):
            return None  # "the shell command exited non-zero": the job's failure line and log follow
        message = record.getMessage() if record.msg is not None else ""
        if record.levelno >= WARNING or event is not None:
            return self.default_formatter.format(record) if record.levelno >= ERROR else message
        return message if message.startswith(NOTHING_TO_DO) else None

    @property
    def writes_to_stream(self) -> bool:
        return True

    @property
    def writes_to_file(self) -> bool:
        return False

    @property
    def has_filter(self) -> bool:
        return True

    @property
    def has_formatter(self) -> bool:
        return True

    @property
    def needs_rulegraph(self) -> bool:
        return False


def _is_failed_command(record: LogRecord) -> bool:
    return getattr(record, "exception", None) == "RuleException" and "CalledProcessError" in str(record.msg)


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError as error:
        return f"(log not readable: {error})"

/**
 * Unified exec: Codex 0.171's `exec_command` + `write_stdin` (./exec-command.ts,
 * ./write-stdin.ts), PTY sessions held by the worker process (./sessions.ts), and which
 * threads get them instead of `shell` (./choice.ts).
 */
export { execCommandTool } from './exec-command';
export { writeStdinTool } from './write-stdin';
export { hostExecSessions } from './sessions';
export { usesUnifiedExec, type CommandTool } from './choice';

// An ACP client written with the official TypeScript SDK
// (@agentclientprotocol/sdk), driving `baton acp` for crates/baton/tests/acp_e2e.rs.
//
// It starts $BATON_BIN acp (the environment is the test's), runs one
// scenario and prints one JSON line per thing it saw, numbered in the order
// it saw them, so the test can check what came and in which order:
//   {"n": 3, "kind": "update", "sessionId": "...", "update": {...}}
//   {"n": 7, "kind": "permission", "request": {...}, "answer": "allow_once"}
//   {"n": 9, "kind": "prompt_response", "response": {...}}  (or "error")
//
// Scenarios (argv[2]):
//   plain       new session, one prompt ($PROMPT), then exit
//   load        session/load of $SESSION, then exit
//   cancel      new session, prompt, and session/cancel once a tool call runs
//   fanout      new session, prompt; once it is answered: touch $GATE,
//               cancel the sub-agent titled $CANCEL_TITLE, and wait for a
//               root message containing $DONE_TEXT and for the sub-agents
//               titled in $WAIT_ENDED (comma-separated) to end
// With $MODE, every scenario but load first asks session/set_mode for it
// (logged as "mode_set" or "mode_error"); in `plain`, the modes in
// $MODE_AFTER (comma-separated) are asked for the same way, one after
// the other, once the prompt is answered.
// $MCP_SERVERS (JSON) is sent as the mcpServers of session/new and load.
// Permission requests are answered with $ANSWER (allow_once by default).
// $SUBAGENTS=0 leaves the subagents capability out.

import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { Readable, Writable } from "node:stream";
import { pathToFileURL } from "node:url";

const sdkPath = `${process.env.BATON_TEST_NPM}/node_modules/@agentclientprotocol/sdk/dist/v1/unstable/acp.js`;
const acp = await import(pathToFileURL(sdkPath).href);

const scenario = process.argv[2];
const env = process.env;
let n = 0;
const log = (entry) => process.stdout.write(JSON.stringify({ n: n++, ...entry }) + "\n");

const agent = spawn(env.BATON_BIN, ["acp"], { stdio: ["pipe", "pipe", "inherit"] });
const stream = acp.ndJsonStream(Writable.toWeb(agent.stdin), Readable.toWeb(agent.stdout));

// Waiters for updates, checked on every update that arrives.
const waiters = [];
const subagents = new Map(); // title -> child session id
const summaries = new Map(); // tool call id -> title, for tasks as tool calls
const ended = new Set(); // titles of the sub-agents (or task tool calls) that ended
const seenModes = []; // current_mode_update ids, in order
function onUpdate(params) {
  log({ kind: "update", sessionId: params.sessionId, update: params.update });
  const u = params.update;
  if (u.sessionUpdate === "current_mode_update") seenModes.push(u.currentModeId);
  if (u.sessionUpdate === "subagent_update" && typeof u.title === "string") {
    subagents.set(u.title, u.sessionId);
  }
  if (u.sessionUpdate === "subagent_update" && u.state?.state === "idle") {
    for (const [title, id] of subagents) if (id === u.sessionId) ended.add(title);
  }
  if (u.sessionUpdate === "tool_call" && u.title?.startsWith("general: ")) {
    summaries.set(u.toolCallId, u.title.slice("general: ".length));
  }
  const closed = u.status === "completed" || u.status === "failed";
  if (u.sessionUpdate === "tool_call_update" && closed && summaries.has(u.toolCallId)) {
    ended.add(summaries.get(u.toolCallId));
  }
  for (const w of [...waiters]) {
    if (w.test(params)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(params);
    }
  }
}
function waitFor(test) {
  return new Promise((resolve) => waiters.push({ test, resolve }));
}
// Resolves once `holds()` is true, looked at now and after every update.
async function until(holds) {
  while (!holds()) await waitFor(() => true);
}

const app = acp
  .client({ name: "baton-acp-test" })
  .onNotification(acp.methods.client.session.update, ({ params }) => onUpdate(params))
  .onRequest(acp.methods.client.session.requestPermission, ({ params }) => {
    const answer = env.ANSWER ?? "allow_once";
    log({ kind: "permission", request: params, answer });
    return { outcome: { outcome: "selected", optionId: answer } };
  });

const capabilities = env.SUBAGENTS === "0" ? {} : { subagents: {} };

try {
  await app.connectWith(stream, async (cx) => {
    const init = await cx.request(acp.methods.agent.initialize, {
      protocolVersion: acp.PROTOCOL_VERSION,
      clientCapabilities: capabilities,
    });
    log({ kind: "initialized", response: init });

    if (scenario === "load") {
      const loaded = await cx.request(acp.methods.agent.session.load, {
        sessionId: env.SESSION,
        cwd: process.cwd(),
        mcpServers: JSON.parse(env.MCP_SERVERS ?? "[]"),
      });
      log({ kind: "loaded", response: loaded });
      return;
    }

    const session = await cx.request(acp.methods.agent.session.new, {
      cwd: process.cwd(),
      mcpServers: JSON.parse(env.MCP_SERVERS ?? "[]"),
    });
    log({ kind: "session", response: session });
    const root = session.sessionId;
    const setMode = async (modeId) => {
      if (!modeId) return;
      try {
        const r = await cx.request(acp.methods.agent.session.setMode, {
          sessionId: root,
          modeId,
        });
        log({ kind: "mode_set", modeId, response: r });
      } catch (error) {
        log({ kind: "mode_error", modeId, error: String(error?.message ?? error) });
      }
    };
    await setMode(env.MODE);
    const prompt = cx
      .request(acp.methods.agent.session.prompt, {
        sessionId: root,
        prompt: [{ type: "text", text: env.PROMPT }],
      })
      .then(
        (response) => log({ kind: "prompt_response", response }),
        (error) => log({ kind: "prompt_error", error: String(error?.message ?? error) }),
      );
    if (scenario === "cancel") {
      // Cancel the turn once its first tool call is running.
      await waitFor((p) => p.sessionId === root && p.update.sessionUpdate === "tool_call");
      log({ kind: "cancelling", sessionId: root });
      await cx.notify(acp.methods.agent.session.cancel, { sessionId: root });
    }
    await prompt;
    if (scenario === "plain") {
      for (const m of (env.MODE_AFTER ?? "").split(",").filter(Boolean)) await setMode(m);
      // The updates a change sends may come after its answer.
      if (env.WAIT_MODE) {
        await until(() =>
          seenModes.includes(env.WAIT_MODE),
        );
      }
    }
    if (scenario !== "fanout") return;

    const doomed = subagents.get(env.CANCEL_TITLE);
    log({ kind: "cancelling", sessionId: doomed ?? null });
    if (doomed) await cx.notify(acp.methods.agent.session.cancel, { sessionId: doomed });
    writeFileSync(env.GATE, "");
    log({ kind: "gate_opened" });
    await waitFor(
      (p) =>
        p.sessionId === root &&
        p.update.sessionUpdate === "agent_message_chunk" &&
        (p.update.content?.text ?? "").includes(env.DONE_TEXT),
    );
    // And every sub-agent named in $WAIT_ENDED ended (they may end after
    // the first integration turn).
    const awaited = (env.WAIT_ENDED ?? "").split(",").filter(Boolean);
    await until(() => awaited.every((t) => ended.has(t)));
    log({ kind: "done" });
  });
} catch (error) {
  log({ kind: "client_error", error: String(error?.stack ?? error) });
  process.exitCode = 1;
} finally {
  agent.stdin.end();
  await new Promise((resolve) => agent.once("exit", resolve));
  log({ kind: "agent_exited", code: agent.exitCode });
}

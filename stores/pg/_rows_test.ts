import assert from "node:assert/strict";
import { createNewJob } from "@conveyor/shared";
import { jobColumns, jobJson, jsonToJob, rowToJob } from "./_rows.ts";
import { admin, pgTest, withStore } from "./_test_utils.ts";

pgTest("a job read as one JSON text (jobJson) equals the job read column by column", async () => {
  await withStore(async (store, schema) => {
    const parent = await createNewJob("parent", { p: 1 }, { jobId: "p" });
    await store.saveJob("parents", parent);
    const job = await createNewJob("t", { a: [1, "x"], b: null }, {
      jobId: "j",
      priority: 3,
      groupId: "g",
      deduplication: { id: "k" },
      removeOnComplete: 5,
      attempts: 4,
    });
    await store.saveJob("q", { ...job, parentId: "p", parentQueueName: "parents" });
    const claimed = (await store.fetchNextJob("q", "w", 60_000))!;
    assert.equal(claimed.id, "j");
    await store.updateJob("q", "j", { progress: { step: 2 } }, claimed.lockToken!);
    await store.addLog("q", "j", "a log line", claimed.lockToken!);
    await store.failJob("q", "j", claimed.lockToken!, {
      failedReason: "boom",
      stacktrace: "at x",
      retryDelay: 0,
    });
    await store.fetchNextJob("q", "w", 60_000);
    const rows = await admin((sql) =>
      sql.unsafe(
        `select ${jobJson("j")} as job, ${jobColumns("j")} from "${schema}".jobs j order by id`,
      )
    );
    assert.equal(rows.length, 2);
    for (const row of rows) assert.deepEqual(jsonToJob(row.job), rowToJob(row));
    const active = jsonToJob(rows.find((row) => row.id === "j")!.job);
    assert.equal(active.id, "j");
    assert.equal(active.state, "active");
    assert.equal(active.priority, 3);
    assert.equal(active.attemptsMade, 1);
    assert.equal(active.attemptsStarted, 2);
    assert.deepEqual(active.stacktrace, ["at x"]);
    assert.deepEqual(active.logs, ["a log line"]);
    assert.deepEqual(active.progress, { step: 2 });
    assert.equal(active.parentId, "p");
    assert.equal(active.groupId, "g");
    assert.equal(active.deduplicationKey, "k");
    assert.equal(typeof active.lockUntil, "number");
  });
});

import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import type { Job, Queue } from "bullmq";
import { formatJobData, formatJobName, maskText } from "./format.ts";

/**
 * bull-board's BullMQ adapter with every job field that can hold a payload or an error
 * formatted. setFormatter covers data, returnValue, name and progress; failedReason and
 * stacktrace have no formatter hook (bull-board copies them from job.toJSON()), so jobs are
 * masked as they are read, and so are job logs and the data of scheduler templates.
 */
export class RedactingBullMQAdapter extends BullMQAdapter {
  constructor(queue: Queue, options: { readOnly: boolean }) {
    super(queue, { readOnlyMode: options.readOnly, allowRetries: !options.readOnly });
    this.setFormatter("data", formatJobData);
    this.setFormatter("returnValue", formatJobData);
    this.setFormatter("progress", formatJobData);
    this.setFormatter("name", formatJobName);
  }

  override async getJob(id: string): Promise<Job | undefined> {
    const job = await super.getJob(id);
    return job ? maskJobErrors(job) : job;
  }

  override async getJobs(...args: Parameters<BullMQAdapter["getJobs"]>): Promise<Job[]> {
    return (await super.getJobs(...args)).map(maskJobErrors);
  }

  override async getJobLogs(id: string): Promise<string[]> {
    return (await super.getJobLogs(id)).map(maskText);
  }

  override async getJobSchedulers(): ReturnType<BullMQAdapter["getJobSchedulers"]> {
    return (await super.getJobSchedulers()).map((scheduler) =>
      scheduler.template
        ? {
            ...scheduler,
            template: { ...scheduler.template, data: formatJobData(scheduler.template.data) },
          }
        : scheduler,
    );
  }
}

// The Job is fresh from Redis for this request only, so shadowing toJSON on the instance
// changes what bull-board serialises without touching what BullMQ stores.
function maskJobErrors(job: Job): Job {
  const toJSON = job.toJSON.bind(job);
  job.toJSON = () => {
    const props = toJSON();
    return {
      ...props,
      failedReason: props.failedReason ? maskText(props.failedReason) : props.failedReason,
      stacktrace: props.stacktrace
        ? props.stacktrace.map((line) => (line ? maskText(line) : line))
        : props.stacktrace,
    };
  };
  return job;
}

import { describe, expect, it } from "vitest";
import { templateTitleOf } from "../src/ids.ts";

// Template titles keep seed 000's shape (LR_[QL]<offer><execution><ch3><cl3>) for people reading
// LuxSci's UI, with separators: run together, two executions could share a title, and one's
// finalize would delete the other's template.

const channelId = "9f1c2e3d4b5a69788796a5b4c3d2e1f0";
const title = (offerId: number, executionId: number | null, realtime = false) =>
  templateTitleOf({ realtime, offerId, executionId, channelId, clientId: "lux" });

describe("template titles", () => {
  it("offer 1 + execution 23 and offer 12 + execution 3 differ", () => {
    expect(title(1, 23)).toBe("LR_1_23_9f1lux");
    expect(title(12, 3)).toBe("LR_12_3_9f1lux");
    expect(title(1, 23)).not.toBe(title(12, 3));
  });

  it("no two (offer, execution) pairs share one, nor a batch title a realtime one", () => {
    const seen = new Map<string, string>();
    for (let offer = 1; offer <= 150; offer++) {
      for (let execution = 1; execution <= 150; execution++) {
        const t = title(offer, execution);
        expect(seen.get(t), t).toBeUndefined();
        seen.set(t, `${offer}/${execution}`);
      }
      const realtime = title(offer, null, true);
      expect(realtime).toBe(`LR_QL${offer}_9f1lux`);
      expect(seen.has(realtime)).toBe(false);
    }
  });
});

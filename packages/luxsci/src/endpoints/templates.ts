import { LuxSciError } from "../errors/luxsci-error.ts";
import { type LuxSciHttp, ShapeError } from "../http.ts";
import type { LuxSciTemplateInput } from "../types.ts";

/**
 * `PUT /user/<u>/templates` (seed 000 outbound step 3). template_id 0 asks for a new template;
 * the reply's `data.template_id` is the contract's choice (the seed shows no reply).
 */
export async function createTemplate(
  http: LuxSciHttp,
  template: LuxSciTemplateInput,
): Promise<string> {
  return http.call({
    method: "PUT",
    path: http.userPath("/templates"),
    body: {
      template_id: 0,
      code_word: null,
      title: template.title,
      subject: template.subject,
      body_html: template.body_html ?? null,
      body_text: template.body_text ?? null,
      format: template.format,
      sl_opt_in: template.sl_opt_in ?? true,
      sl_opt_out: template.sl_opt_out ?? false,
      sl_no_tls: template.sl_no_tls ?? false,
    },
    parse: (envelope) => {
      const id = (envelope.data as { template_id?: unknown } | null | undefined)?.template_id;
      if ((typeof id !== "string" && typeof id !== "number") || id === "") {
        throw new ShapeError("template reply without data.template_id");
      }
      return String(id);
    },
  });
}

/**
 * `DELETE /user/<u>/template/<id>` (seed 000 outbound step 8). Resolves false when LuxSci
 * says the template does not exist (404): deleting is done either way. A 404 is otherwise
 * retryable (seed 000), so this call tries once for it instead of ten times.
 */
export async function deleteTemplate(
  http: LuxSciHttp,
  templateId: string | number,
): Promise<boolean> {
  try {
    await http.call({
      method: "DELETE",
      path: http.userPath(`/template/${encodeURIComponent(String(templateId))}`),
      parse: () => undefined,
      retryNotFound: false,
    });
    return true;
  } catch (error) {
    if (error instanceof LuxSciError && error.status === 404) return false;
    throw error;
  }
}

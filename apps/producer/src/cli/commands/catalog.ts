import {
  type CliCommand,
  type CommonOptions,
  clientOf,
  collect,
  defined,
  positiveInt,
  readText,
  UsageError,
  wholeNumber,
  withCommon,
} from "../common.ts";
import { print, table } from "../output.ts";

// luxrelay campaign create|list, offer create|show|variant|seeds

interface CampaignReply {
  id: number;
  name: string;
  description: string | null;
  offers?: { id: number; name: string }[];
}

interface VariantReply {
  key: string;
  subject: string;
  format: string;
  position: number;
}

interface OfferReply {
  id: number;
  name: string;
  campaign: { id: number; name: string };
  variantAttribute: string | null;
  variantRule: unknown;
  seeds: string[];
  variants: VariantReply[];
}

function describeOffer(offer: OfferReply): string {
  return [
    `offer ${offer.id} "${offer.name}" (campaign ${offer.campaign.id} "${offer.campaign.name}")`,
    table([
      [
        "variants",
        offer.variants.length === 0
          ? "none yet (luxrelay offer variant)"
          : offer.variants.map((v) => `${v.key} [${v.format}] "${v.subject}"`).join("; "),
      ],
      [
        "chosen by",
        offer.variantAttribute
          ? `attribute ${offer.variantAttribute}`
          : offer.variantRule
            ? JSON.stringify(offer.variantRule)
            : "first variant",
      ],
      ["seeds", offer.seeds.length === 0 ? "none" : offer.seeds.join(", ")],
    ]),
  ].join("\n");
}

function parseRule(value: string | undefined): unknown {
  if (value === undefined) return undefined;
  try {
    return JSON.parse(value);
  } catch {
    throw new UsageError(`--variant-rule: expected JSON such as '{"type":"split"}'`);
  }
}

export function registerCatalogCommands(program: CliCommand): void {
  const campaign = program.command("campaign").description("campaigns (groups of offers)");
  withCommon(campaign.command("create"))
    .description("create a campaign")
    .requiredOption("--name <name>", "unique campaign name")
    .option("--description <text>", "what the campaign is for")
    .action(async (options: CommonOptions & { name: string; description?: string }) => {
      const reply = await clientOf(options).request<{ campaign: CampaignReply }>(
        "POST",
        "/campaigns",
        defined({ name: options.name, description: options.description }),
      );
      print(options, reply, () => `created campaign ${reply.campaign.id} "${reply.campaign.name}"`);
    });
  withCommon(campaign.command("list"))
    .description("list campaigns and their offers")
    .action(async (options: CommonOptions) => {
      const reply = await clientOf(options).request<{ campaigns: CampaignReply[] }>(
        "GET",
        "/campaigns",
      );
      print(options, reply, () =>
        reply.campaigns.length === 0
          ? "no campaigns"
          : reply.campaigns
              .map(
                (c) =>
                  `${c.id}  ${c.name}  offers: ${c.offers?.map((o) => `${o.id} ${o.name}`).join(", ") || "none"}`,
              )
              .join("\n"),
      );
    });

  const offer = program.command("offer").description("offers: content variants and seed lists");
  withCommon(offer.command("create"))
    .description("create an offer in a campaign")
    .requiredOption("--campaign <id>", "campaign id")
    .requiredOption("--name <name>", "offer name (unique in the campaign)")
    .option("--variant-attribute <name>", "audience attribute holding each recipient's variant key")
    .option(
      "--variant-rule <json>",
      'variant rule, e.g. \'{"type":"split","weights":{"a":1,"b":1}}\'',
    )
    .option("--seed <email>", "seed address (repeatable)", collect)
    .action(
      async (
        options: CommonOptions & {
          campaign: string;
          name: string;
          variantAttribute?: string;
          variantRule?: string;
          seed?: string[];
        },
      ) => {
        const campaignId = positiveInt(options.campaign, "--campaign");
        const reply = await clientOf(options).request<{ offer: OfferReply }>(
          "POST",
          `/campaigns/${campaignId}/offers`,
          defined({
            name: options.name,
            variantAttribute: options.variantAttribute,
            variantRule: parseRule(options.variantRule),
            seeds: options.seed,
          }),
        );
        print(options, reply, () => `created ${describeOffer(reply.offer)}`);
      },
    );
  withCommon(offer.command("show <offer>"))
    .description("show an offer, its variants and seeds")
    .action(async (id: string, options: CommonOptions) => {
      const reply = await clientOf(options).request<{ offer: OfferReply }>(
        "GET",
        `/offers/${positiveInt(id, "offer")}`,
      );
      print(options, reply, () => describeOffer(reply.offer));
    });
  withCommon(offer.command("variant <offer> <key>"))
    .description("create or replace a content variant (nunjucks; checked before it is stored)")
    .requiredOption("--subject <subject>", "subject template")
    .option("--html <file>", "HTML template file (- for stdin)")
    .option("--text <file>", "plain-text template file (- for stdin)")
    .option("--format <format>", "both, html or text (default: the parts given)")
    .option("--position <n>", "order among the offer's variants", wholeNumber("--position"))
    .action(
      async (
        id: string,
        key: string,
        options: CommonOptions & {
          subject: string;
          html?: string;
          text?: string;
          format?: string;
          position?: number;
        },
      ) => {
        const html = options.html ? await readText(options.html) : undefined;
        const text = options.text ? await readText(options.text) : undefined;
        const format = options.format ?? (html && text ? "both" : html ? "html" : "text");
        const reply = await clientOf(options).request<{ variant: VariantReply }>(
          "PUT",
          `/offers/${positiveInt(id, "offer")}/variants/${encodeURIComponent(key)}`,
          defined({ subject: options.subject, html, text, format, position: options.position }),
        );
        print(
          options,
          reply,
          () => `variant ${reply.variant.key} of offer ${id} saved [${reply.variant.format}]`,
        );
      },
    );
  withCommon(offer.command("seeds <offer> [emails...]"))
    .description("replace the seed (proof) list; no emails clears it")
    .action(async (id: string, emails: string[] | undefined, options: CommonOptions) => {
      const reply = await clientOf(options).request<{ offer: OfferReply }>(
        "PUT",
        `/offers/${positiveInt(id, "offer")}/seeds`,
        { seeds: emails ?? [] },
      );
      print(options, reply, () => `offer ${id} seeds: ${reply.offer.seeds.join(", ") || "none"}`);
    });

  withCommon(offer.command("rollback <offer>"))
    .description("delete the offer's realtime (QL) templates at LuxSci")
    .action(async (id: string, options: CommonOptions) => {
      const reply = await clientOf(options).request<{ rollback: { deleted: number } }>(
        "POST",
        `/offers/${positiveInt(id, "offer")}/rollback`,
      );
      print(
        options,
        reply,
        () => `offer ${id}: ${reply.rollback.deleted} realtime templates deleted`,
      );
    });
}

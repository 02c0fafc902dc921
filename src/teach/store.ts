import { z } from 'zod';
import type { Database, SqlExecutor } from '../journal/database.js';
import type { ProbeModel } from './probe.js';

/** What is kept of one example: its embedding and where it came from, never the image. */
export interface StoredExample {
  id: number;
  className: string;
  embedder: string;
  embedding: Float32Array;
  imageSha256: string;
  imageName: string;
  width: number;
  height: number;
}

export interface NewExample extends Omit<StoredExample, 'id'> {
  addedBy: string | undefined;
}

export interface StoredModel {
  embedder: string;
  classes: string[];
  examples: number;
  trainedAt: Date;
  probe: ProbeModel;
}

export interface ClassCount {
  name: string;
  examples: number;
}

/** PostgreSQL array literal of float4s: floats written in full, so a float32 comes back unchanged. */
const arrayLiteral = (values: ArrayLike<number>): string => `{${Array.from(values, String).join(',')}}`;

/** Both drivers parse float4[] to numbers (pg through pg-types, PGlite natively); text is accepted too. */
const floats = z
  .union([z.array(z.coerce.number()), z.string()])
  .transform((value) =>
    Float32Array.from(
      typeof value === 'string' ? (value.replace(/^\{|\}$/g, '') === '' ? [] : value.slice(1, -1).split(',')) : value,
      Number,
    ),
  );
const count = z.coerce.number().int();
const exampleRow = z.object({
  id: count,
  class_name: z.string(),
  embedder: z.string(),
  embedding: floats,
  image_sha256: z.string(),
  image_name: z.string(),
  width: count,
  height: count,
});
const classRow = z.object({ name: z.string(), examples: count });
const modelRow = z.object({
  embedder: z.string(),
  classes: z.union([z.array(z.string()), z.string().transform((text) => z.array(z.string()).parse(JSON.parse(text)))]),
  dimensions: count,
  mean: floats,
  std: floats,
  weights: floats,
  bias: floats,
  examples: count,
  trained_at: z.coerce.date(),
});

/** Bytes a stored float4[] costs, roughly (4 per number); what the per-server cap counts. */
export const FLOAT_BYTES = 4;

/**
 * /teach's rows: per server (guild_id) classes, example embeddings and one trained probe. Every
 * query names the server, so no call can read or change another server's data.
 */
export class TeachStore {
  constructor(private readonly database: Database) {}

  async classes(guildId: string): Promise<ClassCount[]> {
    const { rows } = await this.database.query(
      `SELECT c.name, count(e.id) AS examples
         FROM teach_classes c LEFT JOIN teach_examples e ON e.guild_id = c.guild_id AND e.class_name = c.name
        WHERE c.guild_id = $1 GROUP BY c.name, c.created_at ORDER BY c.created_at, c.name`,
      [guildId],
    );
    return rows.map((row) => classRow.parse(row));
  }

  async examples(guildId: string): Promise<StoredExample[]> {
    const { rows } = await this.database.query(
      `SELECT id, class_name, embedder, embedding, image_sha256, image_name, width, height
         FROM teach_examples WHERE guild_id = $1 ORDER BY id`,
      [guildId],
    );
    return rows.map((row) => {
      const parsed = exampleRow.parse(row);
      return {
        id: parsed.id,
        className: parsed.class_name,
        embedder: parsed.embedder,
        embedding: parsed.embedding,
        imageSha256: parsed.image_sha256,
        imageName: parsed.image_name,
        width: parsed.width,
        height: parsed.height,
      };
    });
  }

  /** The class an image (by hash) is already an example of, for this embedder. */
  async findImage(guildId: string, embedder: string, sha256: string): Promise<string | undefined> {
    const { rows } = await this.database.query(
      'SELECT class_name FROM teach_examples WHERE guild_id = $1 AND embedder = $2 AND image_sha256 = $3',
      [guildId, embedder, sha256],
    );
    const row = rows[0];
    return row === undefined ? undefined : z.object({ class_name: z.string() }).parse(row).class_name;
  }

  /** Bytes of numbers stored for a server: example embeddings and the trained probe. */
  async storedBytes(guildId: string, executor: SqlExecutor = this.database): Promise<number> {
    const { rows } = await executor.query(
      `SELECT
         COALESCE((SELECT sum(cardinality(embedding)) FROM teach_examples WHERE guild_id = $1), 0)
         + COALESCE((SELECT cardinality(weights) + cardinality(mean) + cardinality(std) + cardinality(bias)
                       FROM teach_models WHERE guild_id = $1), 0) AS numbers`,
      [guildId],
    );
    return z.object({ numbers: count }).parse(rows[0]).numbers * FLOAT_BYTES;
  }

  /**
   * Adds an example (and its class when new) in one transaction, after `check` has seen the
   * server's state inside it: limits are checked against what is committed, not a stale read.
   */
  async addExample(
    guildId: string,
    example: NewExample,
    check: (state: { classes: ClassCount[]; storedBytes: number }) => void,
  ): Promise<void> {
    await this.database.transaction(async (tx) => {
      // Two members adding at once: the second waits here and then sees the first's row.
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`teach:${guildId}`]);
      const { rows } = await tx.query(
        `SELECT c.name, count(e.id) AS examples
           FROM teach_classes c LEFT JOIN teach_examples e ON e.guild_id = c.guild_id AND e.class_name = c.name
          WHERE c.guild_id = $1 GROUP BY c.name`,
        [guildId],
      );
      check({ classes: rows.map((row) => classRow.parse(row)), storedBytes: await this.storedBytes(guildId, tx) });
      await tx.query('INSERT INTO teach_classes (guild_id, name) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        guildId,
        example.className,
      ]);
      await tx.query(
        `INSERT INTO teach_examples (guild_id, class_name, embedder, embedding, image_sha256, image_name, width, height, added_by)
         VALUES ($1, $2, $3, $4::float4[], $5, $6, $7, $8, $9)`,
        [
          guildId,
          example.className,
          example.embedder,
          arrayLiteral(example.embedding),
          example.imageSha256,
          example.imageName,
          example.width,
          example.height,
          example.addedBy ?? null,
        ],
      );
    });
  }

  /** Removes a class and its examples; the trained probe goes too (it knows the class). */
  async removeClass(guildId: string, name: string): Promise<number> {
    return this.database.transaction(async (tx) => {
      const examples = await tx.query('DELETE FROM teach_examples WHERE guild_id = $1 AND class_name = $2', [
        guildId,
        name,
      ]);
      const classes = await tx.query('DELETE FROM teach_classes WHERE guild_id = $1 AND name = $2', [guildId, name]);
      if (classes.rowCount > 0) await tx.query('DELETE FROM teach_models WHERE guild_id = $1', [guildId]);
      return classes.rowCount === 0 ? -1 : examples.rowCount;
    });
  }

  /** Everything /teach keeps for a server. */
  async reset(guildId: string): Promise<{ classes: number; examples: number }> {
    return this.database.transaction(async (tx) => {
      const examples = await tx.query('DELETE FROM teach_examples WHERE guild_id = $1', [guildId]);
      const classes = await tx.query('DELETE FROM teach_classes WHERE guild_id = $1', [guildId]);
      await tx.query('DELETE FROM teach_models WHERE guild_id = $1', [guildId]);
      return { classes: classes.rowCount, examples: examples.rowCount };
    });
  }

  async saveModel(guildId: string, model: Omit<StoredModel, 'trainedAt'>): Promise<void> {
    const { probe } = model;
    await this.database.query(
      `INSERT INTO teach_models (guild_id, embedder, classes, dimensions, mean, std, weights, bias, examples, trained_at)
       VALUES ($1, $2, $3::jsonb, $4, $5::float4[], $6::float4[], $7::float4[], $8::float4[], $9, now())
       ON CONFLICT (guild_id) DO UPDATE SET embedder = EXCLUDED.embedder, classes = EXCLUDED.classes,
         dimensions = EXCLUDED.dimensions, mean = EXCLUDED.mean, std = EXCLUDED.std, weights = EXCLUDED.weights,
         bias = EXCLUDED.bias, examples = EXCLUDED.examples, trained_at = EXCLUDED.trained_at`,
      [
        guildId,
        model.embedder,
        JSON.stringify(model.classes),
        probe.dimensions,
        arrayLiteral(probe.mean),
        arrayLiteral(probe.std),
        arrayLiteral(probe.weights),
        arrayLiteral(probe.bias),
        model.examples,
      ],
    );
  }

  async model(guildId: string): Promise<StoredModel | undefined> {
    const { rows } = await this.database.query(
      'SELECT embedder, classes, dimensions, mean, std, weights, bias, examples, trained_at FROM teach_models WHERE guild_id = $1',
      [guildId],
    );
    if (rows[0] === undefined) return undefined;
    const row = modelRow.parse(rows[0]);
    return {
      embedder: row.embedder,
      classes: row.classes,
      examples: row.examples,
      trainedAt: row.trained_at,
      probe: {
        classes: row.classes.length,
        dimensions: row.dimensions,
        mean: row.mean,
        std: row.std,
        weights: row.weights,
        bias: row.bias,
      },
    };
  }
}

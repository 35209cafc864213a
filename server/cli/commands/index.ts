// Every `streamgate` command, in the order `streamgate --help` lists them.
// A new command is one module in this folder plus one line here.
import type { Command } from "../command.js";
import { caps } from "./caps.js";
import { copy } from "./copy.js";
import { groups } from "./groups.js";
import { health } from "./health.js";
import { keys } from "./keys.js";
import { publish } from "./publish.js";
import { serve } from "./serve.js";
import { tail } from "./tail.js";

export const commands: readonly Command[] = [serve, tail, publish, copy, caps, health, groups, keys];

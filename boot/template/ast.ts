export type Expr =
  | { t: "lit"; value: unknown; at: number }
  | { t: "name"; name: string; at: number }
  | { t: "attr"; obj: Expr; name: string; at: number }
  | { t: "index"; obj: Expr; key: Expr; at: number }
  | { t: "call"; name: string; args: Expr[]; kwargs: [string, Expr][]; at: number }
  | { t: "method"; obj: Expr; name: string; args: Expr[]; at: number }
  | { t: "filter"; value: Expr; name: string; args: Expr[]; kwargs: [string, Expr][]; at: number }
  | { t: "test"; value: Expr; name: string; args: Expr[]; negated: boolean; at: number }
  | { t: "unary"; op: "not" | "-" | "+"; value: Expr; at: number }
  | { t: "binary"; op: string; left: Expr; right: Expr; at: number }
  | { t: "cond"; test: Expr; then: Expr; else: Expr | null; at: number }
  | { t: "list"; items: Expr[]; at: number }
  | { t: "dict"; items: [Expr, Expr][]; at: number };

export type Node =
  | { t: "text"; value: string }
  | { t: "output"; expr: Expr; at: number }
  | { t: "if"; branches: { test: Expr; body: Node[] }[]; else: Node[] | null; at: number }
  // usesLoop: whether the body names `loop`; when false no loop dictionary is built per turn.
  | { t: "for"; targets: string[]; iter: Expr; filter: Expr | null; body: Node[]; else: Node[] | null; usesLoop?: boolean; at: number }
  | { t: "set"; name: string; expr: Expr; at: number };

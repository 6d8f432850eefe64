/**
 * Coverage instrumentation for the fuzzer: copies the compiled library (dist/src) to a second
 * folder, adding a counter increment at the start of every branch of every function (block
 * bodies, both arms of `if`, loop bodies, `case` clauses, `catch`, the arms of `?:`, the right
 * side of `&&`/`||`/`??`). The fuzz loop reads the counters after each input, as libFuzzer reads
 * its edge counters, and keeps an input when it reaches a counter (or a count bucket) no input
 * reached before.
 *
 * The counters live in `globalThis.__fuzzCounters`, a Uint32Array the fuzz worker creates before
 * it imports the instrumented modules. TypeScript's own parser and printer do the rewriting, so
 * no other dependency is needed.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync, statSync, existsSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import ts from 'typescript';

const COUNTERS = '__fuzzCounters';

export interface InstrumentReport {
  /** How many counters the instrumented copy has (the size the counter array needs). */
  counters: number;
  files: number;
}

/** Instruments every .js file under `from` into `to` (same relative paths); other files are skipped. */
export function instrumentTree(from: string, to: string): InstrumentReport {
  let next = 0;
  let files = 0;
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) {
        walk(path);
      } else if (name.endsWith('.js')) {
        const out = join(to, relative(from, path));
        mkdirSync(dirname(out), { recursive: true });
        const result = instrumentSource(readFileSync(path, 'utf8'), path, next);
        next = result.next;
        writeFileSync(out, result.code);
        files++;
      }
    }
  };
  walk(from);
  return { counters: next, files };
}

/** Whether `to` is an instrumented copy at least as new as every file of `from`. */
export function instrumentedCopyIsFresh(from: string, to: string, stamp: string): boolean {
  if (!existsSync(stamp)) return false;
  const made = statSync(stamp).mtimeMs;
  const newer = (dir: string): boolean =>
    readdirSync(dir).some((name) => {
      const path = join(dir, name);
      const info = statSync(path);
      return info.isDirectory() ? newer(path) : name.endsWith('.js') && info.mtimeMs > made;
    });
  return existsSync(to) && !newer(from);
}

export function instrumentSource(code: string, fileName: string, first: number): { code: string; next: number } {
  const source = ts.createSourceFile(fileName, code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  let next = first;
  const f = ts.factory;
  const bump = (): ts.Expression =>
    f.createPostfixIncrement(f.createElementAccessExpression(f.createIdentifier(COUNTERS), f.createNumericLiteral(next++)));
  const bumpStatement = (): ts.Statement => f.createExpressionStatement(bump());
  const counted = (e: ts.Expression): ts.Expression => f.createParenthesizedExpression(f.createCommaListExpression([bump(), e]));

  const transformer: ts.TransformerFactory<ts.SourceFile> = (context) => {
    const asBlock = (s: ts.Statement): ts.Block => {
      const inner = ts.visitNode(s, visit) as ts.Statement;
      if (ts.isBlock(inner)) return f.updateBlock(inner, [bumpStatement(), ...inner.statements]);
      return f.createBlock([bumpStatement(), inner], true);
    };
    const visit = (node: ts.Node): ts.Node => {
      if (ts.isIfStatement(node)) {
        const expression = ts.visitNode(node.expression, visit) as ts.Expression;
        const then = asBlock(node.thenStatement);
        // an `if` without `else` still has two ways out: count the one that skips the body too
        const otherwise = node.elseStatement
          ? ts.isIfStatement(node.elseStatement)
            ? (ts.visitNode(node.elseStatement, visit) as ts.Statement)
            : asBlock(node.elseStatement)
          : f.createBlock([bumpStatement()], true);
        return f.updateIfStatement(node, expression, then, otherwise);
      }
      if (ts.isForStatement(node) || ts.isForOfStatement(node) || ts.isForInStatement(node) || ts.isWhileStatement(node) || ts.isDoStatement(node)) {
        const visited = ts.visitEachChild(node, visit, context);
        const body = visited.statement;
        const counted = ts.isBlock(body) ? f.updateBlock(body, [bumpStatement(), ...body.statements]) : f.createBlock([bumpStatement(), body], true);
        if (ts.isForStatement(visited)) return f.updateForStatement(visited, visited.initializer, visited.condition, visited.incrementor, counted);
        if (ts.isForOfStatement(visited)) return f.updateForOfStatement(visited, visited.awaitModifier, visited.initializer, visited.expression, counted);
        if (ts.isForInStatement(visited)) return f.updateForInStatement(visited, visited.initializer, visited.expression, counted);
        if (ts.isWhileStatement(visited)) return f.updateWhileStatement(visited, visited.expression, counted);
        return f.updateDoStatement(visited as ts.DoStatement, counted, (visited as ts.DoStatement).expression);
      }
      if (ts.isCaseClause(node) || ts.isDefaultClause(node)) {
        const visited = ts.visitEachChild(node, visit, context);
        const statements = [bumpStatement(), ...visited.statements];
        return ts.isCaseClause(visited) ? f.updateCaseClause(visited, visited.expression, statements) : f.updateDefaultClause(visited, statements);
      }
      if (ts.isCatchClause(node)) {
        const visited = ts.visitEachChild(node, visit, context);
        return f.updateCatchClause(visited, visited.variableDeclaration, f.updateBlock(visited.block, [bumpStatement(), ...visited.block.statements]));
      }
      if (ts.isConditionalExpression(node)) {
        const visited = ts.visitEachChild(node, visit, context);
        return f.updateConditionalExpression(visited, visited.condition, visited.questionToken, counted(visited.whenTrue), visited.colonToken, counted(visited.whenFalse));
      }
      if (ts.isBinaryExpression(node)) {
        const op = node.operatorToken.kind;
        if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.BarBarToken || op === ts.SyntaxKind.QuestionQuestionToken) {
          const visited = ts.visitEachChild(node, visit, context);
          return f.updateBinaryExpression(visited, visited.left, visited.operatorToken, counted(visited.right));
        }
      }
      if ((ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node)) && node.body) {
        const visited = ts.visitEachChild(node, visit, context) as typeof node;
        const body = visited.body as ts.Block;
        return replaceBody(visited, f.updateBlock(body, [bumpStatement(), ...body.statements]));
      }
      if (ts.isArrowFunction(node)) {
        const visited = ts.visitEachChild(node, visit, context);
        const body = ts.isBlock(visited.body) ? f.updateBlock(visited.body, [bumpStatement(), ...visited.body.statements]) : counted(visited.body);
        return f.updateArrowFunction(visited, visited.modifiers, visited.typeParameters, visited.parameters, visited.type, visited.equalsGreaterThanToken, body);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return (file) => ts.visitNode(file, visit) as ts.SourceFile;
  };

  const result = ts.transform(source, [transformer]);
  const printed = ts.createPrinter({ removeComments: true }).printFile(result.transformed[0]!);
  result.dispose();
  return { code: `const ${COUNTERS} = globalThis.${COUNTERS};\n${printed}`, next };
}

type WithBody = ts.FunctionDeclaration | ts.FunctionExpression | ts.MethodDeclaration | ts.ConstructorDeclaration | ts.GetAccessorDeclaration | ts.SetAccessorDeclaration;

function replaceBody(node: WithBody, body: ts.Block): ts.Node {
  const f = ts.factory;
  if (ts.isFunctionDeclaration(node)) return f.updateFunctionDeclaration(node, node.modifiers, node.asteriskToken, node.name, node.typeParameters, node.parameters, node.type, body);
  if (ts.isFunctionExpression(node)) return f.updateFunctionExpression(node, node.modifiers, node.asteriskToken, node.name, node.typeParameters, node.parameters, node.type, body);
  if (ts.isMethodDeclaration(node)) return f.updateMethodDeclaration(node, node.modifiers, node.asteriskToken, node.name, node.questionToken, node.typeParameters, node.parameters, node.type, body);
  if (ts.isConstructorDeclaration(node)) return f.updateConstructorDeclaration(node, node.modifiers, node.parameters, body);
  if (ts.isGetAccessorDeclaration(node)) return f.updateGetAccessorDeclaration(node, node.modifiers, node.name, node.parameters, node.type, body);
  return f.updateSetAccessorDeclaration(node, node.modifiers, node.name, node.parameters, body);
}

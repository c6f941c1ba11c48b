"use client";
// CodeMirror 6 with Jinja highlighting. Uncontrolled: the parent gets every change
// through onChange, and through the handle can jump to an error, mark its line, and insert
// text at the cursor (the variables panel).
import { useEffect, useRef } from "react";
import { basicSetup } from "codemirror";
import { Decoration, EditorView, type DecorationSet } from "@codemirror/view";
import { EditorState, StateEffect, StateField } from "@codemirror/state";
import { StreamLanguage } from "@codemirror/language";
import { jinja2 } from "@codemirror/legacy-modes/mode/jinja2";

export type CodeEditorHandle = {
  goTo: (line: number, column: number) => void;
  /** Marks one line as the error's (null clears the mark). */
  markLine: (line: number | null) => void;
  /** Replaces the selection (or inserts at the cursor) with `text`, and puts the cursor after it. */
  insert: (text: string) => void;
  /** Replaces `length` characters at line:column (1-based) with `text` (a suggestion's fix). */
  replaceAt: (line: number, column: number, length: number, text: string) => void;
};

const setErrorLine = StateEffect.define<number | null>();
const errorLineMark = Decoration.line({ attributes: { class: "cm-error-line", "data-error-line": "true" } });

/** The error line's decoration; it follows the text as it is edited until the next preview replaces it. */
const errorLineField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(marks, tr) {
    let next = marks.map(tr.changes);
    for (const e of tr.effects) {
      if (!e.is(setErrorLine)) continue;
      if (e.value === null || e.value < 1 || e.value > tr.state.doc.lines) next = Decoration.none;
      else next = Decoration.set([errorLineMark.range(tr.state.doc.line(e.value).from)]);
    }
    return next;
  },
  provide: (f) => EditorView.decorations.from(f),
});

export function CodeEditor({
  initial,
  onChange,
  readOnly = false,
  label,
  handleRef,
}: {
  initial: string;
  onChange?: (value: string) => void;
  readOnly?: boolean;
  label: string;
  handleRef?: React.MutableRefObject<CodeEditorHandle | null>;
}) {
  const host = useRef<HTMLDivElement>(null);
  const changeRef = useRef(onChange);
  changeRef.current = onChange;

  useEffect(() => {
    const view = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: initial,
        extensions: [
          basicSetup,
          StreamLanguage.define(jinja2),
          errorLineField,
          EditorState.readOnly.of(readOnly),
          EditorView.contentAttributes.of({ "aria-label": label }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) changeRef.current?.(u.state.doc.toString());
          }),
          EditorView.theme({
            "&": { fontSize: "13px", height: "100%" },
            ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace" },
            ".cm-error-line": { backgroundColor: "rgba(220, 38, 38, 0.12)", boxShadow: "inset 3px 0 0 #dc2626" },
          }),
        ],
      }),
    });
    if (handleRef) {
      handleRef.current = {
        goTo(line, column) {
          const l = view.state.doc.line(Math.min(Math.max(1, line), view.state.doc.lines));
          const pos = Math.min(l.from + Math.max(0, column - 1), l.to);
          view.dispatch({ selection: { anchor: pos }, scrollIntoView: true });
          view.focus();
        },
        markLine(line) {
          view.dispatch({ effects: setErrorLine.of(line) });
        },
        replaceAt(line, column, length, text) {
          if (view.state.readOnly || line < 1 || line > view.state.doc.lines) return;
          const l = view.state.doc.line(line);
          const from = Math.min(l.from + Math.max(0, column - 1), l.to);
          const to = Math.min(from + length, l.to);
          view.dispatch({ changes: { from, to, insert: text }, selection: { anchor: from + text.length }, scrollIntoView: true });
          view.focus();
        },
        insert(text) {
          if (view.state.readOnly) return;
          const { from, to } = view.state.selection.main;
          view.dispatch({ changes: { from, to, insert: text }, selection: { anchor: from + text.length }, scrollIntoView: true });
          view.focus();
        },
      };
    }
    return () => view.destroy();
    // The editor owns its document after mount; `initial` only seeds it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return <div ref={host} className="h-full min-h-[24rem] overflow-hidden rounded-md border border-stone-300 bg-white" data-testid="code-editor" />;
}

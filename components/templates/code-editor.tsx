"use client";
// CodeMirror 6 with Jinja highlighting. Uncontrolled: the parent gets every change
// through onChange and can jump to an error line through the handle.
import { useEffect, useRef } from "react";
import { basicSetup } from "codemirror";
import { EditorView } from "@codemirror/view";
import { EditorState } from "@codemirror/state";
import { StreamLanguage } from "@codemirror/language";
import { jinja2 } from "@codemirror/legacy-modes/mode/jinja2";

export type CodeEditorHandle = { goTo: (line: number, column: number) => void };

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
          EditorState.readOnly.of(readOnly),
          EditorView.contentAttributes.of({ "aria-label": label }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) changeRef.current?.(u.state.doc.toString());
          }),
          EditorView.theme({ "&": { fontSize: "13px", height: "100%" }, ".cm-scroller": { fontFamily: "ui-monospace, SFMono-Regular, Menlo, monospace" } }),
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
      };
    }
    return () => view.destroy();
    // The editor owns its document after mount; `initial` only seeds it.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return <div ref={host} className="h-full min-h-[24rem] overflow-hidden rounded-md border border-stone-300 bg-white" data-testid="code-editor" />;
}

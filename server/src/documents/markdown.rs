//! TEMPORARY stub: replaced by the real converter.
use yrs::{ReadTxn, TransactionMut, XmlFragmentRef};
pub fn import_markdown(_txn: &mut TransactionMut, _fragment: &XmlFragmentRef, _markdown: &str) {}
pub fn export_markdown<T: ReadTxn>(_txn: &T, _fragment: &XmlFragmentRef) -> String {
    String::new()
}
pub fn export_text<T: ReadTxn>(_txn: &T, _fragment: &XmlFragmentRef) -> String {
    String::new()
}
pub fn export_html<T: ReadTxn>(_txn: &T, _fragment: &XmlFragmentRef) -> String {
    String::new()
}
pub fn block_texts<T: ReadTxn>(_txn: &T, _fragment: &XmlFragmentRef) -> Vec<String> {
    Vec::new()
}

pub fn run(_p: &super::Pipeline, _e: &[crate::event::Event], _n: i64) -> Result<Vec<crate::event::Row>, super::SplError> { todo!() }

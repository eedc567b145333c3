//! Infrastructure behind the shop's rules: the response cache, the state shared by all
//! instances (Redis or this process), the job queue and the model store. The database
//! itself is [`crate::storage`].

pub mod cache;
pub mod model_store;
pub mod propagation;
pub mod queue;
pub mod shared_store;
